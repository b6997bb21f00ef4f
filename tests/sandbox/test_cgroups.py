"""What grader.sandbox.cgroups writes, on a fake /sys/fs/cgroup: the v2 layout (which this machine, a hybrid
v1 system, cannot exercise for real) and the v1 one. The kernel's side (limits enforced, OOM counted) is
tested on the real hierarchy in test_isolation.py where this machine has one."""

import pytest

from grader.sandbox import cgroups
from grader.sandbox.limits import Limits

LIMITS = Limits(memory_bytes=512 * 1024**2, processes=16, cpus=0.5)


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setattr(cgroups, "ROOT", tmp_path)
    monkeypatch.setattr(cgroups.os, "geteuid", lambda: 0)
    return tmp_path


def unified(root, controllers="cpuset cpu io memory hugetlb pids rdma misc"):
    (root / "cgroup.controllers").write_text(controllers + "\n")
    (root / "cgroup.procs").write_text("")


def test_a_v2_group_gets_memory_without_swap_processes_and_a_cpu_quota(root):
    unified(root)
    group, why = cgroups.create(LIMITS, "box1")
    assert why == "" and group.version == 2
    folder = root / cgroups.PARENT / "box1"
    assert group.folders == [folder]
    assert (folder / "memory.max").read_text() == str(512 * 1024**2)
    assert (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "pids.max").read_text() == "16"
    assert (folder / "cpu.max").read_text() == "50000 100000"
    for parent in (root, root / cgroups.PARENT):  # the controllers are handed down to the sandboxes' groups
        assert set((parent / "cgroup.subtree_control").read_text().split()) == {"+cpu", "+memory", "+pids"}
    assert group.procs_files == [str(folder / "cgroup.procs")]


def test_a_v2_oom_kill_is_seen_once(root):
    unified(root)
    group, _ = cgroups.create(LIMITS, "box2")
    events = group.folders[0] / "memory.events"
    events.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert group.new_out_of_memory()
    assert not group.new_out_of_memory()
    events.write_text("low 0\nhigh 0\nmax 5\noom 2\noom_kill 2\n")
    assert group.new_out_of_memory()


def test_v2_without_the_memory_controller_falls_back_to_v1(root):
    unified(root, "cpu pids hugetlb")
    for controller in cgroups.V1_CONTROLLERS:
        (root / controller).mkdir()
        (root / controller / "cgroup.procs").write_text("")
    group, why = cgroups.create(LIMITS, "box3")
    assert why == "" and group.version == 1
    memory, pids, cpu = group.folders
    assert (memory / "memory.limit_in_bytes").read_text() == str(512 * 1024**2)
    assert (pids / "pids.max").read_text() == "16"
    assert (cpu / "cpu.cfs_quota_us").read_text() == "50000"


def test_a_v2_group_counts_its_cpu_time_from_cpu_stat(root):
    unified(root)
    group, _ = cgroups.create(LIMITS, "box6")
    (group.folders[0] / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    assert group.cpu_seconds() == 2.5


def v1_hierarchies(root, *names):
    for controller in names:
        (root / controller).mkdir()
        (root / controller / "cgroup.procs").write_text("")


def test_a_v1_group_joins_cpuacct_mounted_on_its_own_and_counts_from_it(root):
    v1_hierarchies(root, *cgroups.V1_CONTROLLERS, "cpuacct")
    group, _ = cgroups.create(LIMITS, "box7")
    assert [f.parent.parent.name for f in group.folders] == ["memory", "pids", "cpu", "cpuacct"]
    assert len(group.procs_files) == 4  # the worker enters it too, so every process it starts is counted
    assert group.cpu_seconds() is None  # the kernel has not written the count yet
    (group.folders[3] / "cpuacct.usage").write_text("1250000000\n")
    assert group.cpu_seconds() == 1.25


def v1_cpu_beside_cpuacct(root):
    """v1 as most distributions mount it: cpu and cpuacct one hierarchy (cpu,cpuacct, linked by both names)."""
    (root / "cpu,cpuacct").mkdir()
    (root / "cpu,cpuacct" / "cgroup.procs").write_text("")
    for name in ("cpu", "cpuacct"):
        (root / name).symlink_to(root / "cpu,cpuacct")
    v1_hierarchies(root, "memory", "pids")


def test_a_v1_cpuacct_mounted_beside_cpu_is_one_folder(root):
    v1_cpu_beside_cpuacct(root)
    group, _ = cgroups.create(LIMITS, "box8")
    assert len(group.folders) == 3
    (group.folders[2] / "cpuacct.usage").write_text("500000000\n")
    assert group.cpu_seconds() == 0.5


def test_a_v1_system_without_cpuacct_has_no_group_count(root):
    v1_hierarchies(root, *cgroups.V1_CONTROLLERS)
    group, _ = cgroups.create(LIMITS, "box9")
    assert len(group.folders) == 3 and group.cpu_seconds() is None


def test_no_hierarchy_means_no_group_and_says_why(root):
    group, why = cgroups.create(LIMITS, "box4")
    assert group is None and "no writable cgroup hierarchy" in why


def test_a_grader_that_is_not_root_makes_no_group(root, monkeypatch):
    unified(root)
    monkeypatch.setattr(cgroups.os, "geteuid", lambda: 1000)
    group, why = cgroups.create(LIMITS, "box5")
    assert group is None and "not root" in why


def test_a_v1_group_left_by_a_killed_grader_is_found_in_cpuacct_too_and_removed(root):
    v1_hierarchies(root, *cgroups.V1_CONTROLLERS, "cpuacct")
    cgroups.create(LIMITS, "box10")  # then the grader is killed: only the name is left to find it by
    left = cgroups.existing("box10")
    assert [f.parent.parent.name for f in left.folders] == ["memory", "pids", "cpu", "cpuacct"]
    left.close()  # the fake's other folders hold the limits written into them; cpuacct's is empty, as the kernel's are
    assert not (root / "cpuacct" / cgroups.PARENT / "box10").exists()


def test_a_v1_group_beside_cpu_is_found_once(root):
    v1_cpu_beside_cpuacct(root)
    cgroups.create(LIMITS, "box11")
    assert len(cgroups.existing("box11").folders) == 3

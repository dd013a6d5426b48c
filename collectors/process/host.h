// Facts about the machine (or container) tacho runs on: CPUs, memory, and the cgroup v2 limits
// that bound what the processes of this cgroup may use. Shared by collectors that relate usage
// to capacity (and, later, an efficiency score).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tacho::collectors::process {

struct HostFacts {
  int cpus = 0;                          // online CPUs
  std::uint64_t memory_total_bytes = 0;  // MemTotal
  // The effective cgroup v2 limits of tacho's own cgroup: the tightest along the path from its
  // cgroup up to the root that is visible. nullopt: unlimited, or not cgroup v2.
  std::optional<double> cgroup_cpu_quota_cores;
  std::optional<std::uint64_t> cgroup_memory_limit_bytes;
};

// One cgroup v2 limit file: either "max" (no limit) or a limit.
template <class T>
struct CgroupLimit {
  bool limited = false;
  T value{};
};

// 200000 100000  ->  2.0 cores (quota / period);  max 100000  ->  not limited.
// nullopt when malformed.
std::optional<CgroupLimit<double>> ParseCgroupCpuMax(std::string_view text);
// 536870912  ->  536870912 bytes;  max  ->  not limited. nullopt when malformed.
std::optional<CgroupLimit<std::uint64_t>> ParseCgroupMemoryMax(std::string_view text);
// 0::/system.slice/tacho.service   (the cgroup v2 line of /proc/self/cgroup)  ->  the path.
// nullopt on a cgroup v1-only system (no "0::" line).
std::optional<std::string> ParseCgroupV2Path(std::string_view proc_self_cgroup);

// Reads the facts. CPUs: sysconf(_SC_NPROCESSORS_ONLN) when procfs_root is the live "/proc",
// else the cpu<N> lines of <procfs_root>/stat (fixture trees). Memory: <procfs_root>/meminfo.
// Cgroup: <procfs_root>/self/cgroup names the path, limits are read from
// <cgroup_root><path>/{cpu.max,memory.max} and each ancestor's. Fails when CPUs or memory
// cannot be determined; cgroup trouble only leaves the limits unset. Thread-safe.
Expected<HostFacts, Status> ReadHostFacts(const std::string& procfs_root = "/proc",
                                          const std::string& cgroup_root = "/sys/fs/cgroup");

}  // namespace tacho::collectors::process

#include "collectors/process/host.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "collectors/process/procfs.h"

namespace tacho::collectors::process {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<std::uint64_t> ParseU64(std::string_view s) {
  std::uint64_t value = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<CgroupLimit<double>> ParseCgroupCpuMax(std::string_view text) {
  text = Trim(text);
  std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view quota = text.substr(0, space);
  auto period = ParseU64(Trim(text.substr(space + 1)));
  if (!period || *period == 0) return std::nullopt;
  if (quota == "max") return CgroupLimit<double>{};
  auto q = ParseU64(quota);
  if (!q) return std::nullopt;
  return CgroupLimit<double>{true, static_cast<double>(*q) / static_cast<double>(*period)};
}

std::optional<CgroupLimit<std::uint64_t>> ParseCgroupMemoryMax(std::string_view text) {
  text = Trim(text);
  if (text == "max") return CgroupLimit<std::uint64_t>{};
  auto bytes = ParseU64(text);
  if (!bytes) return std::nullopt;
  return CgroupLimit<std::uint64_t>{true, *bytes};
}

std::optional<std::string> ParseCgroupV2Path(std::string_view proc_self_cgroup) {
  while (!proc_self_cgroup.empty()) {
    std::size_t nl = proc_self_cgroup.find('\n');
    std::string_view line = proc_self_cgroup.substr(0, nl);
    if (line.substr(0, 3) == "0::") {
      std::string_view path = Trim(line.substr(3));
      if (path.empty() || path[0] != '/') return std::nullopt;
      return std::string(path);
    }
    if (nl == std::string_view::npos) break;
    proc_self_cgroup.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

Expected<HostFacts, Status> ReadHostFacts(const std::string& procfs_root,
                                          const std::string& cgroup_root) {
  ProcfsReader reader(procfs_root);
  HostFacts facts;

  if (reader.is_live()) {
    facts.cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  } else if (auto stat = reader.ReadFile("stat"); stat.ok()) {
    facts.cpus = CountCpuLines(*stat);
  }
  if (facts.cpus <= 0) {
    return Status::Error("cannot determine the number of CPUs from \"" + procfs_root + "\"");
  }

  auto meminfo = reader.ReadFile("meminfo");
  std::optional<std::uint64_t> total;
  if (meminfo.ok()) total = ParseMemTotalBytes(*meminfo);
  if (!total) return Status::Error("cannot read MemTotal from \"" + procfs_root + "/meminfo\"");
  facts.memory_total_bytes = *total;

  auto self_cgroup = reader.ReadFile("self/cgroup");
  if (!self_cgroup.ok()) return facts;
  auto path = ParseCgroupV2Path(*self_cgroup);
  if (!path) return facts;

  // Walk from the process's cgroup up to the root: a parent's limit bounds its children.
  std::string dir = cgroup_root;
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  std::string relative = *path;
  while (true) {
    std::string base = dir + (relative == "/" ? "" : relative);
    if (auto cpu = reader.ReadOutsideFile(base + "/cpu.max"); cpu.ok()) {
      if (auto limit = ParseCgroupCpuMax(*cpu); limit && limit->limited) {
        facts.cgroup_cpu_quota_cores =
            std::min(facts.cgroup_cpu_quota_cores.value_or(limit->value), limit->value);
      }
    }
    if (auto mem = reader.ReadOutsideFile(base + "/memory.max"); mem.ok()) {
      if (auto limit = ParseCgroupMemoryMax(*mem); limit && limit->limited) {
        facts.cgroup_memory_limit_bytes =
            std::min(facts.cgroup_memory_limit_bytes.value_or(limit->value), limit->value);
      }
    }
    if (relative == "/") break;
    std::size_t slash = relative.rfind('/');
    relative = slash == 0 ? "/" : relative.substr(0, slash);
  }
  return facts;
}

}  // namespace tacho::collectors::process

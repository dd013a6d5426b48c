#include "collectors/process/host.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tacho::collectors::process {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProc = "collectors/process/testdata/proc-basic";
constexpr const char* kCgroup = "collectors/process/testdata/cgroup-v2";

TEST(CgroupParserTest, cpu_max_quota_and_period) {
  auto limit = ParseCgroupCpuMax("200000 100000\n");
  ASSERT_TRUE(limit.has_value());
  EXPECT_TRUE(limit->limited);
  EXPECT_DOUBLE_EQ(limit->value, 2.0);
  limit = ParseCgroupCpuMax("50000 100000");
  ASSERT_TRUE(limit.has_value());
  EXPECT_DOUBLE_EQ(limit->value, 0.5);
}

TEST(CgroupParserTest, cpu_max_unlimited) {
  auto limit = ParseCgroupCpuMax("max 100000\n");
  ASSERT_TRUE(limit.has_value());
  EXPECT_FALSE(limit->limited);
}

TEST(CgroupParserTest, cpu_max_malformed) {
  EXPECT_FALSE(ParseCgroupCpuMax("").has_value());
  EXPECT_FALSE(ParseCgroupCpuMax("max").has_value());
  EXPECT_FALSE(ParseCgroupCpuMax("100000 0").has_value());
  EXPECT_FALSE(ParseCgroupCpuMax("lots 100000").has_value());
}

TEST(CgroupParserTest, memory_max) {
  auto limit = ParseCgroupMemoryMax("536870912\n");
  ASSERT_TRUE(limit.has_value());
  EXPECT_TRUE(limit->limited);
  EXPECT_EQ(limit->value, 536870912u);
  limit = ParseCgroupMemoryMax("max\n");
  ASSERT_TRUE(limit.has_value());
  EXPECT_FALSE(limit->limited);
  EXPECT_FALSE(ParseCgroupMemoryMax("1G").has_value());
}

TEST(CgroupParserTest, v2_path_from_proc_self_cgroup) {
  EXPECT_EQ(ParseCgroupV2Path("0::/system.slice/tacho.service\n"), "/system.slice/tacho.service");
  // Hybrid hierarchy: v1 lines first, the unified one last.
  EXPECT_EQ(ParseCgroupV2Path("4:memory:/docker/abc\n1:cpu:/\n0::/\n"), "/");
  EXPECT_FALSE(ParseCgroupV2Path("4:memory:/docker/abc\n1:cpu:/\n").has_value());
  EXPECT_FALSE(ParseCgroupV2Path("").has_value());
}

TEST(HostFactsTest, fixture_tree_with_nested_limits) {
  auto facts = ReadHostFacts(kProc, kCgroup);
  ASSERT_TRUE(facts.ok()) << facts.error().message();
  EXPECT_EQ(facts->cpus, 4);
  EXPECT_EQ(facts->memory_total_bytes, 8000000ull * 1024);
  // tacho.service: 1.5 cores; its parent system.slice: unlimited.
  ASSERT_TRUE(facts->cgroup_cpu_quota_cores.has_value());
  EXPECT_DOUBLE_EQ(*facts->cgroup_cpu_quota_cores, 1.5);
  // tacho.service: 512 MiB; system.slice: 1 GiB. The tighter one wins.
  ASSERT_TRUE(facts->cgroup_memory_limit_bytes.has_value());
  EXPECT_EQ(*facts->cgroup_memory_limit_bytes, 536870912u);
}

TEST(HostFactsTest, parent_limit_tighter_than_child) {
  fs::path root = fs::temp_directory_path() / ("tacho-host-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "a" / "b");
  std::ofstream(root / "a" / "memory.max") << "1000\n";
  std::ofstream(root / "a" / "cpu.max") << "25000 100000\n";
  std::ofstream(root / "a" / "b" / "memory.max") << "max\n";
  std::ofstream(root / "a" / "b" / "cpu.max") << "max 100000\n";
  fs::path proc = root / "proc";
  fs::create_directories(proc / "self");
  std::ofstream(proc / "stat") << "cpu 1 2 3\ncpu0 1 2 3\nbtime 5\n";
  std::ofstream(proc / "meminfo") << "MemTotal: 1000 kB\n";
  std::ofstream(proc / "self" / "cgroup") << "0::/a/b\n";

  auto facts = ReadHostFacts(proc.string(), root.string());
  fs::remove_all(root);
  ASSERT_TRUE(facts.ok()) << facts.error().message();
  EXPECT_EQ(facts->cpus, 1);
  EXPECT_EQ(facts->memory_total_bytes, 1024000u);
  EXPECT_EQ(facts->cgroup_memory_limit_bytes, 1000u);
  EXPECT_EQ(facts->cgroup_cpu_quota_cores, 0.25);
}

TEST(HostFactsTest, no_cgroup_v2_means_no_limits) {
  auto facts = ReadHostFacts(kProc, "collectors/process/testdata/no-such-cgroup");
  ASSERT_TRUE(facts.ok());
  EXPECT_FALSE(facts->cgroup_cpu_quota_cores.has_value());
  EXPECT_FALSE(facts->cgroup_memory_limit_bytes.has_value());
}

TEST(HostFactsTest, missing_procfs_is_an_error) {
  auto facts = ReadHostFacts("collectors/process/testdata/no-such-proc", kCgroup);
  ASSERT_FALSE(facts.ok());
  EXPECT_NE(facts.error().message().find("no-such-proc"), std::string::npos);
}

TEST(HostFactsTest, live_system) {
  auto facts = ReadHostFacts();
  ASSERT_TRUE(facts.ok()) << facts.error().message();
  EXPECT_EQ(facts->cpus, sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_GT(facts->memory_total_bytes, 0u);
}

}  // namespace
}  // namespace tacho::collectors::process

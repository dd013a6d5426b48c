#include "collectors/process/scanner.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "collectors/process/test_util.h"

namespace tacho::collectors::process::detail {
namespace {

using testutil::Context;
using testutil::FixtureCopy;
using testutil::kProcBasic;

TEST(CommMatcherTest, exact_and_kernel_truncated) {
  EXPECT_TRUE(CommMatches("postgres", "postgres"));
  EXPECT_FALSE(CommMatches("postgres", "postgres2"));
  EXPECT_FALSE(CommMatches("postgre", "postgres"));
  // The kernel keeps 15 bytes: "my-very-long-daemon" runs as "my-very-long-da".
  EXPECT_TRUE(CommMatches("my-very-long-daemon", "my-very-long-da"));
  EXPECT_FALSE(CommMatches("my-very-long-daemon", "my-very-long-d"));
  EXPECT_FALSE(CommMatches("my-very-long-dbxxx", "my-very-long-da"));
}

TEST(ExeMatcherTest, basename_or_full_path) {
  EXPECT_TRUE(ExeMatches("redis-server", "/usr/bin/redis-server"));
  EXPECT_TRUE(ExeMatches("/usr/bin/redis-server", "/usr/bin/redis-server"));
  EXPECT_FALSE(ExeMatches("/usr/local/bin/redis-server", "/usr/bin/redis-server"));
  EXPECT_FALSE(ExeMatches("redis", "/usr/bin/redis-server"));
  EXPECT_FALSE(ExeMatches("redis-server", ""));  // kernel thread
  EXPECT_TRUE(ExeMatches("tacho", "tacho"));
}

TEST(StateBucketTest, process_exporter_buckets) {
  EXPECT_STREQ(kStateNames[StateBucket('R')], "Running");
  EXPECT_STREQ(kStateNames[StateBucket('S')], "Sleeping");
  EXPECT_STREQ(kStateNames[StateBucket('D')], "Waiting");
  EXPECT_STREQ(kStateNames[StateBucket('Z')], "Zombie");
  EXPECT_STREQ(kStateNames[StateBucket('I')], "Other");
  EXPECT_STREQ(kStateNames[StateBucket('T')], "Other");
}

// Counts the reads of each file kind; never injects an error.
struct ReadCounter {
  std::map<std::string, int> reads;
  ProcfsReader::FaultInjector Injector() {
    return [this](std::string_view, std::string_view file) {
      ++reads[std::string(file)];
      return 0;
    };
  }
};

GroupSpec Comm(std::string name, std::string comm) {
  GroupSpec g;
  g.name = std::move(name);
  g.comm = {std::move(comm)};
  return g;
}

TEST(ProcessScannerTest, unmatched_processes_cost_one_stat_read) {
  ReadCounter counter;
  ScannerOptions options;
  options.procfs_root = kProcBasic;
  options.groups = {Comm("postgres", "postgres")};
  options.inject = counter.Injector();
  ProcessScanner scanner(std::move(options));
  ASSERT_TRUE(scanner.Scan(Context()).ok());
  EXPECT_EQ(counter.reads["stat"], 8);
  // Only the two postgres members are read further.
  EXPECT_EQ(counter.reads["status"], 2);
  EXPECT_EQ(counter.reads["io"], 2);
  EXPECT_EQ(counter.reads["fd"], 2);
  EXPECT_EQ(counter.reads["limits"], 2);
  // No group asks for them.
  EXPECT_EQ(counter.reads["cmdline"], 0);
  EXPECT_EQ(counter.reads["exe"], 0);
  EXPECT_EQ(scanner.scanned(), 8u);
  EXPECT_EQ(scanner.tracked(), 8u);
}

TEST(ProcessScannerTest, cmdline_and_exe_are_read_once_per_process) {
  ReadCounter counter;
  ScannerOptions options;
  options.procfs_root = kProcBasic;
  GroupSpec by_exe;
  by_exe.name = "redis";
  by_exe.exe = {"redis-server"};
  GroupSpec by_cmdline;
  by_cmdline.name = "bouncer";
  by_cmdline.cmdline.emplace("pgbouncer\\.ini");
  options.groups = {by_exe, by_cmdline};
  options.inject = counter.Injector();
  ProcessScanner scanner(std::move(options));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(scanner.Scan(Context()).ok());
  EXPECT_EQ(counter.reads["stat"], 3 * 8);
  EXPECT_EQ(counter.reads["exe"], 8);      // each process once, on first sight
  EXPECT_EQ(counter.reads["cmdline"], 7);  // all but redis, which the exe group took first
  EXPECT_EQ(scanner.totals()[0].num_procs, 1u);
  EXPECT_EQ(scanner.totals()[1].num_procs, 1u);
}

TEST(ProcessScannerTest, comm_change_re_evaluates_the_match) {
  FixtureCopy fixture;
  ScannerOptions options;
  options.procfs_root = fixture.root().string();
  options.groups = {Comm("renamed", "worker")};
  ProcessScanner scanner(std::move(options));
  ASSERT_TRUE(scanner.Scan(Context()).ok());
  EXPECT_EQ(scanner.totals()[0].num_procs, 0u);
  // prctl(PR_SET_NAME): same process (same starttime), new comm.
  std::string stat = FixtureCopy::Read(fixture.pid(400) / "stat");
  stat.replace(stat.find("(pgbouncer)"), 11, "(worker)");
  std::ofstream(fixture.pid(400) / "stat", std::ios::trunc) << stat;
  ASSERT_TRUE(scanner.Scan(Context()).ok());
  EXPECT_EQ(scanner.totals()[0].num_procs, 1u);
  // It joins from a baseline: its CPU time was spent outside the group.
  EXPECT_EQ(scanner.totals()[0].user_ticks, 0u);
}

TEST(ProcessScannerTest, gone_processes_are_forgotten) {
  FixtureCopy fixture;
  ScannerOptions options;
  options.procfs_root = fixture.root().string();
  options.groups = {Comm("postgres", "postgres")};
  ProcessScanner scanner(std::move(options));
  ASSERT_TRUE(scanner.Scan(Context()).ok());
  EXPECT_EQ(scanner.tracked(), 8u);
  fixture.Remove(101);
  fixture.Remove(600);
  ASSERT_TRUE(scanner.Scan(Context()).ok());
  EXPECT_EQ(scanner.tracked(), 6u);
  EXPECT_EQ(scanner.totals()[0].user_ticks, 170u);
}

TEST(ProcessScannerTest, self_group_uses_the_roots_self_link) {
  ScannerOptions options;
  options.procfs_root = kProcBasic;
  GroupSpec self;
  self.name = "tacho";
  self.self = true;
  options.groups = {self};
  ProcessScanner scanner(std::move(options));
  ASSERT_TRUE(scanner.Scan(Context()).ok());
  EXPECT_EQ(scanner.totals()[0].num_procs, 1u);
  EXPECT_EQ(scanner.totals()[0].user_ticks, 10u);  // pid 300
}

}  // namespace
}  // namespace tacho::collectors::process::detail

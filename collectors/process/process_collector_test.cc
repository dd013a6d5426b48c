#include "collectors/process/process_collector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <fstream>

#include "collectors/process/process_collector_internal.h"
#include "collectors/process/procfs.h"
#include "collectors/process/self_metrics.h"
#include "collectors/process/test_util.h"

namespace tacho::collectors::process {
namespace {

using testutil::CollectInto;
using testutil::Context;
using testutil::FixtureCopy;
using testutil::kCgroupV2;
using testutil::kProcBasic;
using testutil::LoadProcessConfig;
using testutil::MakeCollector;
using testutil::Samples;

double Ticks() { return static_cast<double>(ClockTicksPerSecond()); }
double Pages(double pages) { return pages * static_cast<double>(PageSizeBytes()); }

std::string Root(const std::string& root) {
  return "procfs_root = \"" + root + "\"\ncgroup_root = \"" + kCgroupV2 + "\"\n";
}

std::unique_ptr<agent::Collector> MustMake(const std::string& body) {
  auto collector = MakeCollector(body);
  EXPECT_TRUE(collector.ok()) << (collector.ok() ? "" : collector.error().ToString());
  return collector.ok() ? std::move(*collector) : nullptr;
}

// The fixture tree (testdata/proc-basic, see testdata/README.md), one group per matcher kind.
std::string AllMatchersConfig(const std::string& root, const std::string& pidfile) {
  return Root(root) +
         "[[collectors.process.groups]]\nname = \"postgres\"\ncomm = [\"postgres\"]\n"
         "[[collectors.process.groups]]\nname = \"redis\"\nexe = [\"redis-server\"]\n"
         "[[collectors.process.groups]]\nname = \"pgbouncer\"\npidfile = \"" +
         pidfile +
         "\"\n"
         "[[collectors.process.groups]]\nname = \"tacho\"\nself = true\n"
         "[[collectors.process.groups]]\nname = \"longname\"\ncomm = [\"my-very-long-daemon\"]\n"
         "[[collectors.process.groups]]\nname = \"nobody\"\ncomm = [\"no-such-process\"]\n";
}

TEST(ProcessCollectorTest, groups_by_comm_exe_pidfile_self_and_long_comm) {
  FixtureCopy fixture;
  std::string pidfile = (fixture.scratch() / "pgbouncer.pid").string();
  std::ofstream(pidfile) << "400\n";
  auto collector = MustMake(AllMatchersConfig(fixture.root().string(), pidfile));
  ASSERT_NE(collector, nullptr);
  Samples s;
  ASSERT_TRUE(CollectInto(*collector, s).ok());

  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=postgres}"), 2);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=redis}"), 1);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=pgbouncer}"), 1);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=tacho}"), 1);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=longname}"), 1);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=nobody}"), 0);

  // postgres = pids 100 and 101; the first collection counts their whole lives.
  const std::string pg = "{groupname=postgres";
  EXPECT_DOUBLE_EQ(s.At("namedprocess_namegroup_cpu_seconds_total" + pg + ",mode=user}"),
                   (150 + 20) / Ticks());
  EXPECT_DOUBLE_EQ(s.At("namedprocess_namegroup_cpu_seconds_total" + pg + ",mode=system}"),
                   (50 + 10) / Ticks());
  EXPECT_EQ(s.At("namedprocess_namegroup_read_bytes_total" + pg + "}"), 4096000);
  EXPECT_EQ(s.At("namedprocess_namegroup_write_bytes_total" + pg + "}"), 8192000 + 40960);
  EXPECT_EQ(s.At("namedprocess_namegroup_major_page_faults_total" + pg + "}"), 11);
  EXPECT_EQ(s.At("namedprocess_namegroup_minor_page_faults_total" + pg + "}"), 1200);
  EXPECT_EQ(
      s.At("namedprocess_namegroup_context_switches_total" + pg + ",ctxswitchtype=voluntary}"),
      600);
  EXPECT_EQ(
      s.At("namedprocess_namegroup_context_switches_total" + pg + ",ctxswitchtype=nonvoluntary}"),
      25);
  EXPECT_EQ(s.At("namedprocess_namegroup_memory_bytes" + pg + ",memtype=resident}"), Pages(6000));
  EXPECT_EQ(s.At("namedprocess_namegroup_memory_bytes" + pg + ",memtype=virtual}"), 400000000);
  EXPECT_EQ(s.At("namedprocess_namegroup_memory_bytes" + pg + ",memtype=swapped}"), 1024 * 1024);
  EXPECT_EQ(s.At("namedprocess_namegroup_open_filedesc" + pg + "}"), 6);
  EXPECT_DOUBLE_EQ(s.At("namedprocess_namegroup_worst_fd_ratio" + pg + "}"), 4.0 / 1024);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_threads" + pg + "}"), 2);
  EXPECT_DOUBLE_EQ(s.At("namedprocess_namegroup_oldest_start_time_seconds" + pg + "}"),
                   1700000000 + 1000 / Ticks());
  EXPECT_EQ(s.At("namedprocess_namegroup_states" + pg + ",state=Sleeping}"), 2);
  EXPECT_EQ(s.At("namedprocess_namegroup_states" + pg + ",state=Running}"), 0);

  // tacho: state R, unlimited fd limit gives ratio 0.
  EXPECT_EQ(s.At("namedprocess_namegroup_states{groupname=tacho,state=Running}"), 1);
  EXPECT_EQ(s.At("namedprocess_namegroup_worst_fd_ratio{groupname=tacho}"), 0);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_threads{groupname=tacho}"), 8);
  EXPECT_EQ(s.At("namedprocess_namegroup_states{groupname=longname,state=Waiting}"), 1);

  // redis: exe "/usr/bin/redis-server (deleted)" matched; its io file is absent, so the group
  // has no byte counters at all rather than zeros.
  EXPECT_FALSE(s.Has("namedprocess_namegroup_read_bytes_total{groupname=redis}"));
  EXPECT_FALSE(s.Has("namedprocess_namegroup_write_bytes_total{groupname=redis}"));
  EXPECT_DOUBLE_EQ(s.At("namedprocess_namegroup_worst_fd_ratio{groupname=redis}"), 6.0 / 10032);
  EXPECT_EQ(s.At("tacho_process_read_errors_total{reason=missing}"), 1);

  // An empty group: zeros, and no start time (process-exporter would say year 1).
  EXPECT_EQ(s.At("namedprocess_namegroup_cpu_seconds_total{groupname=nobody,mode=user}"), 0);
  EXPECT_EQ(s.At("namedprocess_namegroup_read_bytes_total{groupname=nobody}"), 0);
  EXPECT_EQ(s.At("namedprocess_namegroup_open_filedesc{groupname=nobody}"), 0);
  EXPECT_FALSE(s.Has("namedprocess_namegroup_oldest_start_time_seconds{groupname=nobody}"));

  EXPECT_EQ(s.At("tacho_process_scanned"), 8);
  EXPECT_EQ(s.At("tacho_process_read_errors_total{reason=permission}"), 0);
  EXPECT_EQ(s.At("tacho_process_read_errors_total{reason=vanished}"), 0);
  EXPECT_EQ(s.At("tacho_process_read_errors_total{reason=parse}"), 0);
}

TEST(ProcessCollectorTest, every_family_has_help_and_a_consistent_type) {
  FixtureCopy fixture;
  auto collector = MustMake(AllMatchersConfig(fixture.root().string(), "/nonexistent.pid"));
  ASSERT_NE(collector, nullptr);
  Samples s;
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_GE(s.families().size(), 17u);
  for (const auto& family : s.families()) {
    EXPECT_FALSE(family.help.empty()) << family.name;
    if (family.type == prometheus::MetricType::Counter) {
      EXPECT_TRUE(family.name.ends_with("_total")) << family.name;
    }
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) EXPECT_NE(label.name, "target") << family.name;
    }
  }
}

TEST(ProcessCollectorTest, host_facts_from_fixture) {
  FixtureCopy fixture;
  auto collector = MustMake(Root(fixture.root().string()));
  ASSERT_NE(collector, nullptr);
  Samples s;
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_EQ(s.At("tacho_host_cpus"), 4);
  EXPECT_EQ(s.At("tacho_host_memory_bytes"), 8000000.0 * 1024);
  EXPECT_DOUBLE_EQ(s.At("tacho_host_cgroup_cpu_quota_cores"), 1.5);
  EXPECT_EQ(s.At("tacho_host_cgroup_memory_limit_bytes"), 536870912);
}

TEST(ProcessCollectorTest, unlimited_cgroup_exports_no_limit_series) {
  FixtureCopy fixture;
  auto collector = MustMake("procfs_root = \"" + fixture.root().string() +
                            "\"\ncgroup_root = \"/nonexistent-cgroup\"\n");
  ASSERT_NE(collector, nullptr);
  Samples s;
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_TRUE(s.Has("tacho_host_cpus"));
  EXPECT_FALSE(s.Has("tacho_host_cgroup_cpu_quota_cores"));
  EXPECT_FALSE(s.Has("tacho_host_cgroup_memory_limit_bytes"));
}

constexpr const char* kPostgres =
    "[[collectors.process.groups]]\nname = \"postgres\"\ncomm = [\"postgres\"]\n";
// The postgres group's user CPU counter.
constexpr const char* kPostgresUserCpu =
    "namedprocess_namegroup_cpu_seconds_total{groupname=postgres,mode=user}";

TEST(ProcessCollectorTest, process_exit_does_not_make_counters_go_backwards) {
  FixtureCopy fixture;
  auto collector = MustMake(Root(fixture.root().string()) + kPostgres);
  ASSERT_NE(collector, nullptr);
  Samples first, second, third;
  ASSERT_TRUE(CollectInto(*collector, first).ok());
  EXPECT_DOUBLE_EQ(first.At(kPostgresUserCpu), 170 / Ticks());

  // The checkpointer (101, utime 20) grows by 5 ticks, then exits before the next scan.
  fixture.SetUtime(101, 25);
  ASSERT_TRUE(CollectInto(*collector, second).ok());
  EXPECT_DOUBLE_EQ(second.At(kPostgresUserCpu), 175 / Ticks());
  fixture.Remove(101);
  fixture.SetUtime(100, 160);
  ASSERT_TRUE(CollectInto(*collector, third).ok());
  EXPECT_EQ(third.At("namedprocess_namegroup_num_procs{groupname=postgres}"), 1);
  // 175 + 10 from pid 100: the exited process keeps its contribution.
  EXPECT_DOUBLE_EQ(third.At(kPostgresUserCpu), 185 / Ticks());
  EXPECT_EQ(third.At("namedprocess_namegroup_write_bytes_total{groupname=postgres}"),
            8192000 + 40960);
  EXPECT_EQ(third.At("namedprocess_namegroup_open_filedesc{groupname=postgres}"), 4);
}

TEST(PidReuseTest, reused_pid_with_new_starttime_yields_no_negative_delta) {
  FixtureCopy fixture;
  auto collector = MustMake(Root(fixture.root().string()) + kPostgres);
  ASSERT_NE(collector, nullptr);
  Samples first, second;
  ASSERT_TRUE(CollectInto(*collector, first).ok());
  EXPECT_DOUBLE_EQ(first.At(kPostgresUserCpu), 170 / Ticks());

  // 101 exits and a new postgres backend gets pid 101: later start, far fewer ticks (3 < 20).
  fixture.SetStarttime(101, 5000);
  fixture.SetUtime(101, 3);
  ASSERT_TRUE(CollectInto(*collector, second).ok());
  // Old 101 keeps its 20; the new process adds all of its 3.
  EXPECT_DOUBLE_EQ(second.At(kPostgresUserCpu), 173 / Ticks());
  EXPECT_DOUBLE_EQ(second.At("namedprocess_namegroup_oldest_start_time_seconds{groupname="
                             "postgres}"),
                   1700000000 + 1000 / Ticks());
}

TEST(PidReuseTest, same_starttime_with_lower_counter_is_not_a_negative_delta) {
  FixtureCopy fixture;
  auto collector = MustMake(Root(fixture.root().string()) + kPostgres);
  ASSERT_NE(collector, nullptr);
  Samples first, second, third;
  ASSERT_TRUE(CollectInto(*collector, first).ok());
  fixture.SetUtime(100, 100);  // impossible for one process; must not subtract
  ASSERT_TRUE(CollectInto(*collector, second).ok());
  EXPECT_DOUBLE_EQ(second.At(kPostgresUserCpu), first.At(kPostgresUserCpu));
  fixture.SetUtime(100, 104);  // growth from the new baseline counts
  ASSERT_TRUE(CollectInto(*collector, third).ok());
  EXPECT_DOUBLE_EQ(third.At(kPostgresUserCpu), first.At(kPostgresUserCpu) + 4 / Ticks());
}

TEST(ProcessCollectorTest, process_started_after_first_scan_contributes_its_full_counters) {
  FixtureCopy fixture;
  auto collector = MustMake(Root(fixture.root().string()) + kPostgres);
  ASSERT_NE(collector, nullptr);
  Samples first, second;
  ASSERT_TRUE(CollectInto(*collector, first).ok());
  fixture.Clone(101, 102);
  fixture.SetStarttime(102, 9000);
  ASSERT_TRUE(CollectInto(*collector, second).ok());
  EXPECT_EQ(second.At("namedprocess_namegroup_num_procs{groupname=postgres}"), 3);
  EXPECT_DOUBLE_EQ(
      second.At("namedprocess_namegroup_cpu_seconds_total{groupname=postgres,mode=user}"),
      (170 + 20) / Ticks());
  EXPECT_EQ(second.At("namedprocess_namegroup_write_bytes_total{groupname=postgres}"),
            8192000 + 2 * 40960);
}

TEST(ProcessCollectorTest, zero_member_group_keeps_accumulated_counters) {
  FixtureCopy fixture;
  auto collector = MustMake(Root(fixture.root().string()) + kPostgres);
  ASSERT_NE(collector, nullptr);
  Samples first, second;
  ASSERT_TRUE(CollectInto(*collector, first).ok());
  fixture.Remove(100);
  fixture.Remove(101);
  ASSERT_TRUE(CollectInto(*collector, second).ok());
  EXPECT_EQ(second.At("namedprocess_namegroup_num_procs{groupname=postgres}"), 0);
  EXPECT_DOUBLE_EQ(
      second.At("namedprocess_namegroup_cpu_seconds_total{groupname=postgres,mode=user}"),
      170 / Ticks());
  EXPECT_EQ(second.At("namedprocess_namegroup_read_bytes_total{groupname=postgres}"), 4096000);
  EXPECT_EQ(second.At("namedprocess_namegroup_memory_bytes{groupname=postgres,memtype=resident}"),
            0);
  EXPECT_FALSE(second.Has("namedprocess_namegroup_oldest_start_time_seconds{groupname=postgres}"));
}

TEST(GroupMatchingTest, first_matching_group_wins) {
  FixtureCopy fixture;
  const std::string checkpointer =
      "[[collectors.process.groups]]\nname = \"checkpointer\"\ncmdline = \"checkpointer\"\n";
  Samples s;
  auto postgres_first = MustMake(Root(fixture.root().string()) + kPostgres + checkpointer);
  ASSERT_TRUE(CollectInto(*postgres_first, s).ok());
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=postgres}"), 2);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=checkpointer}"), 0);

  auto checkpointer_first = MustMake(Root(fixture.root().string()) + checkpointer + kPostgres);
  ASSERT_TRUE(CollectInto(*checkpointer_first, s).ok());
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=postgres}"), 1);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=checkpointer}"), 1);
}

TEST(GroupMatchingTest, cmdline_regex_and_exe_full_path) {
  FixtureCopy fixture;
  Samples s;
  auto collector = MustMake(
      Root(fixture.root().string()) +
      "[[collectors.process.groups]]\nname = \"pgdata\"\n"
      "cmdline = \"-D /var/lib/postgresql/[0-9]+/main$\"\n"
      "[[collectors.process.groups]]\nname = \"bouncer\"\n"
      "exe = [\"/usr/sbin/pgbouncer\"]\ncmdline = \"pgbouncer\\\\.ini\"\n"
      "[[collectors.process.groups]]\nname = \"wrongpath\"\nexe = [\"/usr/bin/pgbouncer\"]\n");
  ASSERT_NE(collector, nullptr);
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=pgdata}"), 1);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=bouncer}"), 1);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=wrongpath}"), 0);
}

TEST(GroupMatchingTest, all_matchers_of_a_group_must_match) {
  FixtureCopy fixture;
  Samples s;
  auto collector = MustMake(Root(fixture.root().string()) +
                            "[[collectors.process.groups]]\nname = \"pg_checkpointer\"\n"
                            "comm = [\"postgres\"]\ncmdline = \"checkpointer\"\n"
                            "[[collectors.process.groups]]\nname = \"mismatch\"\n"
                            "comm = [\"postgres\"]\nexe = [\"redis-server\"]\n");
  ASSERT_NE(collector, nullptr);
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=pg_checkpointer}"), 1);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=mismatch}"), 0);
}

TEST(GroupMatchingTest, pidfile_is_reread_every_collection) {
  FixtureCopy fixture;
  std::string pidfile = (fixture.scratch() / "daemon.pid").string();
  auto collector =
      MustMake(Root(fixture.root().string()) +
               "[[collectors.process.groups]]\nname = \"daemon\"\npidfile = \"" + pidfile + "\"\n");
  ASSERT_NE(collector, nullptr);
  const std::string procs = "namedprocess_namegroup_num_procs{groupname=daemon}";
  const std::string user = "namedprocess_namegroup_cpu_seconds_total{groupname=daemon,mode=user}";
  Samples s;
  ASSERT_TRUE(CollectInto(*collector, s).ok());  // no pidfile yet: not an error
  EXPECT_EQ(s.At(procs), 0);
  EXPECT_EQ(s.At("tacho_process_read_errors_total{reason=vanished}"), 0);

  std::ofstream(pidfile) << "400\n";
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_EQ(s.At(procs), 1);
  // 400 was known (unmatched) before: it joins from a baseline, not with its whole life.
  EXPECT_EQ(s.At(user), 0);
  fixture.SetUtime(400, 33);
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_DOUBLE_EQ(s.At(user), 3 / Ticks());

  std::ofstream(pidfile, std::ios::trunc) << "garbage\n";
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_EQ(s.At(procs), 0);
  EXPECT_DOUBLE_EQ(s.At(user), 3 / Ticks());
  EXPECT_EQ(s.At("tacho_process_read_errors_total{reason=parse}"), 1);
}

TEST(GroupMatchingTest, pidfile_symlink_is_followed_only_when_the_group_says_so) {
  FixtureCopy fixture;
  std::ofstream(fixture.scratch() / "real.pid") << "400\n";
  const std::string link = (fixture.scratch() / "daemon.pid").string();
  std::filesystem::create_symlink(fixture.scratch() / "real.pid", link);
  const std::string group =
      "[[collectors.process.groups]]\nname = \"daemon\"\npidfile = \"" + link + "\"\n";
  const std::string procs = "namedprocess_namegroup_num_procs{groupname=daemon}";

  auto strict = MustMake(Root(fixture.root().string()) + group);
  ASSERT_NE(strict, nullptr);
  Samples s;
  ASSERT_TRUE(CollectInto(*strict, s).ok());
  EXPECT_EQ(s.At(procs), 0);
  EXPECT_EQ(s.At("tacho_process_read_errors_total{reason=other}"), 1) << "the link is refused";

  auto following =
      MustMake(Root(fixture.root().string()) + group + "pidfile_follow_symlinks = true\n");
  ASSERT_NE(following, nullptr);
  ASSERT_TRUE(CollectInto(*following, s).ok());
  EXPECT_EQ(s.At(procs), 1);
}

// --- partial reads -------------------------------------------------------------------------

detail::CollectorOptions OptionsFor(const std::string& body) {
  auto config = LoadProcessConfig(body);
  EXPECT_TRUE(config.ok()) << config.error().ToString();
  auto options = detail::ParseOptions(config->collectors.at(0).section);
  EXPECT_TRUE(options.ok()) << options.error().ToString();
  return std::move(*options);
}

// A collector of the postgres group over `fixture` whose reads fail where `inject` says.
std::unique_ptr<agent::Collector> PostgresCollectorFailing(const FixtureCopy& fixture,
                                                           ProcfsReader::FaultInjector inject) {
  auto options = OptionsFor(Root(fixture.root().string()) + kPostgres);
  options.scanner.inject = std::move(inject);
  return detail::NewProcessCollector(std::move(options));
}

TEST(PartialReadTest, permission_denied_io_and_fd_are_counted_not_zeroed) {
  FixtureCopy fixture;
  // What a non-root agent sees for another user's process: io and fd/ refused (EACCES).
  auto collector =
      PostgresCollectorFailing(fixture, [](std::string_view proc, std::string_view file) {
        return proc == "100" && (file == "io" || file == "fd") ? EACCES : 0;
      });
  Samples s;
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_EQ(s.At("tacho_process_read_errors_total{reason=permission}"), 2);
  // Still a member, with its stat and status.
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=postgres}"), 2);
  EXPECT_DOUBLE_EQ(s.At("namedprocess_namegroup_cpu_seconds_total{groupname=postgres,mode=user}"),
                   170 / Ticks());
  // Bytes and fds are those of 101 alone.
  EXPECT_EQ(s.At("namedprocess_namegroup_write_bytes_total{groupname=postgres}"), 40960);
  EXPECT_EQ(s.At("namedprocess_namegroup_open_filedesc{groupname=postgres}"), 2);
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_EQ(s.At("tacho_process_read_errors_total{reason=permission}"), 4);
}

TEST(PartialReadTest, group_with_no_readable_io_has_no_byte_counters) {
  FixtureCopy fixture;
  auto collector = PostgresCollectorFailing(fixture, [](std::string_view, std::string_view file) {
    return file == "io" || file == "fd" ? EPERM : 0;
  });
  Samples s;
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=postgres}"), 2);
  EXPECT_FALSE(s.Has("namedprocess_namegroup_read_bytes_total{groupname=postgres}"));
  EXPECT_FALSE(s.Has("namedprocess_namegroup_write_bytes_total{groupname=postgres}"));
  EXPECT_FALSE(s.Has("namedprocess_namegroup_open_filedesc{groupname=postgres}"));
  EXPECT_FALSE(s.Has("namedprocess_namegroup_worst_fd_ratio{groupname=postgres}"));
  EXPECT_TRUE(s.Has("namedprocess_namegroup_memory_bytes{groupname=postgres,memtype=resident}"));
  EXPECT_EQ(s.At("tacho_process_read_errors_total{reason=permission}"), 4);
}

TEST(PartialReadTest, process_vanishing_mid_read_is_counted_and_left_out) {
  FixtureCopy fixture;
  auto collector =
      PostgresCollectorFailing(fixture, [](std::string_view proc, std::string_view file) {
        return proc == "101" && file == "status" ? ESRCH : 0;
      });
  Samples s;
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_EQ(s.At("tacho_process_read_errors_total{reason=vanished}"), 1);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=postgres}"), 1);
  // Its CPU, read from stat before it went, still counts.
  EXPECT_DOUBLE_EQ(s.At("namedprocess_namegroup_cpu_seconds_total{groupname=postgres,mode=user}"),
                   170 / Ticks());
}

TEST(PartialReadTest, unparsable_stat_is_a_parse_error) {
  FixtureCopy fixture;
  std::ofstream(fixture.pid(101) / "stat", std::ios::trunc) << "101 (postgres) S 1 2\n";
  auto collector = MustMake(Root(fixture.root().string()) + kPostgres);
  ASSERT_NE(collector, nullptr);
  Samples s;
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_EQ(s.At("tacho_process_read_errors_total{reason=parse}"), 1);
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=postgres}"), 1);
}

// --- collection failures ----------------------------------------------------------------------

TEST(ProcessCollectorTest, missing_procfs_root_fails_the_collection) {
  auto collector = MustMake("procfs_root = \"collectors/process/testdata/no-such-proc\"\n");
  ASSERT_NE(collector, nullptr);
  Samples s;
  Status status = CollectInto(*collector, s);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no-such-proc"), std::string::npos);
}

TEST(ProcessCollectorTest, cancelled_collection_stops_and_fails) {
  auto collector = MustMake(Root(kProcBasic) + kPostgres);
  ASSERT_NE(collector, nullptr);
  std::atomic<bool> cancelled{true};
  auto ctx = Context();
  ctx.cancelled = &cancelled;
  Samples s;
  Status status = CollectInto(*collector, s, ctx);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("cancelled"), std::string::npos);
  // The next, uncancelled collection is complete.
  cancelled = false;
  ASSERT_TRUE(CollectInto(*collector, s, ctx).ok());
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=postgres}"), 2);
}

// --- configuration ---------------------------------------------------------------------------

TEST(ProcessConfigTest, bad_regex_is_a_config_error_at_the_key) {
  auto collector = MakeCollector(
      "[[collectors.process.groups]]\nname = \"broken\"\ncmdline = \"postgres: (\"\n");
  ASSERT_FALSE(collector.ok());
  const config::Error& error = collector.error();
  EXPECT_EQ(error.position.file, "test.toml");
  EXPECT_EQ(error.position.line, 5);
  EXPECT_NE(error.message.find("cmdline"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("broken"), std::string::npos) << error.message;
}

TEST(ProcessConfigTest, group_without_matcher_is_rejected) {
  auto collector = MakeCollector("[[collectors.process.groups]]\nname = \"idle\"\n");
  ASSERT_FALSE(collector.ok());
  EXPECT_NE(collector.error().message.find("no matcher"), std::string::npos);
  auto empty_list = MakeCollector("[[collectors.process.groups]]\nname = \"idle\"\ncomm = []\n");
  EXPECT_FALSE(empty_list.ok());
}

TEST(ProcessConfigTest, duplicate_group_names_are_rejected) {
  auto collector = MakeCollector(
      "[[collectors.process.groups]]\nname = \"pg\"\ncomm = [\"postgres\"]\n"
      "[[collectors.process.groups]]\nname = \"pg\"\ncomm = [\"pgbouncer\"]\n");
  ASSERT_FALSE(collector.ok());
  EXPECT_NE(collector.error().message.find("duplicate"), std::string::npos);
  EXPECT_EQ(collector.error().position.line, 7);
}

TEST(ProcessConfigTest, unknown_group_key_is_rejected_by_the_loader) {
  auto config =
      LoadProcessConfig("[[collectors.process.groups]]\nname = \"pg\"\ncom = [\"postgres\"]\n");
  EXPECT_FALSE(config.ok());
}

TEST(ProcessConfigTest, defaults_and_kind) {
  agent::CollectorKind kind = ProcessCollectorKind();
  EXPECT_EQ(kind.name, "process");
  EXPECT_TRUE(kind.up_metric.empty());
  EXPECT_FALSE(kind.description.empty());
  auto options = OptionsFor("");
  EXPECT_EQ(options.scanner.procfs_root, "/proc");
  EXPECT_EQ(options.cgroup_root, "/sys/fs/cgroup");
  EXPECT_TRUE(options.scanner.groups.empty());
}

TEST(ProcessConfigTest, sample_toml_loads_and_configures) {
  auto kind = ProcessCollectorKind();
  auto config =
      config::LoadFile("collectors/process/sample.toml", agent::testutil::SchemasOf(kind));
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  ASSERT_EQ(config->collectors.size(), 1u);
  auto collector = kind.create(config->collectors[0].section, agent::Environment{});
  ASSERT_TRUE(collector.ok()) << collector.error().ToString();
  auto options = detail::ParseOptions(config->collectors[0].section);
  ASSERT_TRUE(options.ok());
  EXPECT_GE(options->scanner.groups.size(), 4u);
}

// --- the live system -------------------------------------------------------------------------

TEST(LiveProcTest, self_group_counts_this_test_process) {
  auto collector = MustMake("[[collectors.process.groups]]\nname = \"me\"\nself = true\n");
  ASSERT_NE(collector, nullptr);
  // Burn a little CPU so that utime+stime is at least a few ticks.
  volatile double sink = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(150);
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 10000; ++i) sink = sink + std::sqrt(static_cast<double>(i));
  }
  Samples s;
  ASSERT_TRUE(CollectInto(*collector, s).ok());
  EXPECT_EQ(s.At("namedprocess_namegroup_num_procs{groupname=me}"), 1);
  double cpu = s.At("namedprocess_namegroup_cpu_seconds_total{groupname=me,mode=user}") +
               s.At("namedprocess_namegroup_cpu_seconds_total{groupname=me,mode=system}");
  EXPECT_GT(cpu, 0);
  EXPECT_GE(s.At("namedprocess_namegroup_open_filedesc{groupname=me}"), 3);
  EXPECT_GT(s.At("namedprocess_namegroup_memory_bytes{groupname=me,memtype=resident}"), 0);
  EXPECT_GT(s.At("tacho_process_scanned"), 1);
  EXPECT_EQ(s.At("tacho_host_cpus"), sysconf(_SC_NPROCESSORS_ONLN));
  double start = s.At("namedprocess_namegroup_oldest_start_time_seconds{groupname=me}");
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(start, now + 2);
  EXPECT_GT(start, now - 3600);

  Samples again;
  ASSERT_TRUE(CollectInto(*collector, again).ok());
  EXPECT_GE(again.At("namedprocess_namegroup_cpu_seconds_total{groupname=me,mode=user}"),
            s.At("namedprocess_namegroup_cpu_seconds_total{groupname=me,mode=user}"));
}

// --- WriteSelfProcessMetrics ---------------------------------------------------------------

TEST(SelfProcessMetricsTest, fixture_self_is_pid_300) {
  agent::MetricSink sink;
  WriteSelfProcessMetrics(sink, kProcBasic);
  Samples s(sink.Take());
  EXPECT_DOUBLE_EQ(s.At("process_cpu_seconds_total"), 15 / Ticks());
  EXPECT_EQ(s.At("process_open_fds"), 3);
  EXPECT_EQ(s.At("process_max_fds"), static_cast<double>(kUnlimited));
  EXPECT_EQ(s.At("process_virtual_memory_bytes"), 100000000);
  EXPECT_EQ(s.At("process_virtual_memory_max_bytes"), static_cast<double>(kUnlimited));
  EXPECT_EQ(s.At("process_resident_memory_bytes"), Pages(3000));
  EXPECT_DOUBLE_EQ(s.At("process_start_time_seconds"), 1700000000 + 3000 / Ticks());
}

TEST(SelfProcessMetricsTest, live_process) {
  agent::MetricSink sink;
  WriteSelfProcessMetrics(sink);
  Samples s(sink.Take());
  EXPECT_GE(s.At("process_open_fds"), 3);
  EXPECT_GT(s.At("process_max_fds"), 0);
  EXPECT_GT(s.At("process_resident_memory_bytes"), 0);
  EXPECT_GT(s.At("process_start_time_seconds"), 1e9);
  EXPECT_TRUE(s.Has("process_cpu_seconds_total"));
}

TEST(SelfProcessMetricsTest, unreadable_root_writes_nothing) {
  agent::MetricSink sink;
  WriteSelfProcessMetrics(sink, "collectors/process/testdata/no-such-proc");
  EXPECT_EQ(sink.size(), 0u);
}

}  // namespace
}  // namespace tacho::collectors::process

#include "collectors/process/procfs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/temp_dir_test_util.h"

namespace tacho::collectors::process {
namespace {

using namespace std::string_literals;

constexpr const char* kFixture = "collectors/process/testdata/proc-basic";

// The 22 fields after comm up to rss, as the kernel writes them, plus a tail of later fields.
constexpr std::string_view kTail =
    " S 1 4242 4242 0 -1 4194560 120 0 3 0 15 7 0 0 20 0 2 0 98765 12345678 512 "
    "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

std::string StatLine(std::string_view comm) {
  return "4242 ("s + std::string(comm) + ")" + std::string(kTail);
}

TEST(ProcStatParserTest, parses_every_used_field) {
  auto stat = ParseProcStat(StatLine("postgres"));
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->pid, 4242);
  EXPECT_EQ(stat->comm, "postgres");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 1);
  EXPECT_EQ(stat->minflt, 120u);
  EXPECT_EQ(stat->majflt, 3u);
  EXPECT_EQ(stat->utime, 15u);
  EXPECT_EQ(stat->stime, 7u);
  EXPECT_EQ(stat->num_threads, 2);
  EXPECT_EQ(stat->starttime, 98765u);
  EXPECT_EQ(stat->vsize, 12345678u);
  EXPECT_EQ(stat->rss, 512);
}

TEST(ProcStatParserTest, comm_with_parens_and_spaces) {
  auto stat = ParseProcStat(StatLine("my (odd) proc"));
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->comm, "my (odd) proc");
  EXPECT_EQ(stat->starttime, 98765u);
}

TEST(ProcStatParserTest, comm_that_imitates_the_following_fields) {
  // A process may name itself ") R 1 2 3 (" to confuse parsers that split at the first ')'.
  auto stat = ParseProcStat(StatLine(") R 9 9 9 ("));
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->comm, ") R 9 9 9 (");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 1);
  EXPECT_EQ(stat->utime, 15u);
}

TEST(ProcStatParserTest, comm_with_newline_and_lone_parens) {
  for (std::string comm : {"a\nb"s, "(("s, "))"s, ""s, " "s, "x)\n) S 1"s}) {
    auto stat = ParseProcStat(StatLine(comm));
    ASSERT_TRUE(stat.has_value()) << comm;
    EXPECT_EQ(stat->comm, comm);
    EXPECT_EQ(stat->rss, 512) << comm;
  }
}

TEST(ProcStatParserTest, kernel_thread_has_zero_memory) {
  auto stat = ParseProcStat(
      "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 3 0 0 20 0 1 0 8 0 0 18446744073709551615 0 0 "
      "0 0 0 0 0 2147483647 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->comm, "kthreadd");
  EXPECT_EQ(stat->ppid, 0);
  EXPECT_EQ(stat->vsize, 0u);
  EXPECT_EQ(stat->rss, 0);
  EXPECT_EQ(stat->starttime, 8u);
}

TEST(ProcStatParserTest, idle_kernel_thread_state) {
  auto stat = ParseProcStat(
      "15 (kworker/0:1H-kblockd) I 2 0 0 0 -1 69238880 0 0 0 0 0 1 0 0 0 -20 1 0 9 0 0 "
      "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0");
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->comm, "kworker/0:1H-kblockd");
  EXPECT_EQ(stat->state, 'I');
}

TEST(ProcStatParserTest, truncated_line_is_a_parse_error) {
  EXPECT_FALSE(
      ParseProcStat("4242 (postgres) S 1 4242 4242 0 -1 4194560 120 0 3 0 15 7").has_value());
  // Stops right before rss.
  EXPECT_FALSE(
      ParseProcStat("4242 (p) S 1 4242 4242 0 -1 4194560 120 0 3 0 15 7 0 0 20 0 2 0 98765 1234")
          .has_value());
}

TEST(ProcStatParserTest, garbage_is_a_parse_error) {
  EXPECT_FALSE(ParseProcStat("").has_value());
  EXPECT_FALSE(ParseProcStat("4242 postgres S 1").has_value());
  EXPECT_FALSE(ParseProcStat("4242 (postgres").has_value());
  EXPECT_FALSE(ParseProcStat(")(").has_value());
  EXPECT_FALSE(ParseProcStat("x (p)" + std::string(kTail)).has_value());
  EXPECT_FALSE(ParseProcStat("4242 (p) SS 1 4242 4242 0 -1 4194560 120 0 3 0 15 7 0 0 20 0 2 0 "
                             "98765 12345678 512")
                   .has_value());
  EXPECT_FALSE(ParseProcStat("4242 (p) S 1 4242 4242 0 -1 4194560 x 0 3 0 15 7 0 0 20 0 2 0 "
                             "98765 12345678 512")
                   .has_value());
}

TEST(ProcStatParserTest, only_the_fields_up_to_rss_are_needed) {
  auto stat = ParseProcStat("7 (p) R 1 7 7 0 -1 0 1 0 2 0 3 4 0 0 20 0 5 0 6 8192 2");
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->rss, 2);
  EXPECT_EQ(stat->vsize, 8192u);
}

TEST(ProcStatusParserTest, reads_swap_threads_and_context_switches) {
  auto status = ParseProcStatus(
      "Name:\tpostgres\nUmask:\t0077\nState:\tS (sleeping)\nVmSize:\t  219024 kB\n"
      "VmSwap:\t      12 kB\nThreads:\t3\nvoluntary_ctxt_switches:\t42\n"
      "nonvoluntary_ctxt_switches:\t7\n");
  ASSERT_TRUE(status.name.has_value());
  EXPECT_EQ(*status.name, "postgres");
  EXPECT_EQ(status.vm_swap_bytes, 12u * 1024);
  EXPECT_EQ(status.threads, 3);
  EXPECT_EQ(status.voluntary_ctxt_switches, 42u);
  EXPECT_EQ(status.nonvoluntary_ctxt_switches, 7u);
}

TEST(ProcStatusParserTest, kernel_thread_lacks_vm_lines) {
  auto status = ParseProcStatus(
      "Name:\tkthreadd\nUmask:\t0000\nState:\tS (sleeping)\nThreads:\t1\n"
      "voluntary_ctxt_switches:\t200\nnonvoluntary_ctxt_switches:\t1\n");
  EXPECT_FALSE(status.vm_swap_bytes.has_value());
  EXPECT_EQ(status.threads, 1);
  EXPECT_EQ(status.voluntary_ctxt_switches, 200u);
}

TEST(ProcStatusParserTest, missing_and_unknown_lines_are_tolerated) {
  auto status = ParseProcStatus("Frobnication:\t9\nno colon here\nThreads:\tbogus\n");
  EXPECT_FALSE(status.name.has_value());
  EXPECT_FALSE(status.vm_swap_bytes.has_value());
  EXPECT_FALSE(status.threads.has_value());
  EXPECT_FALSE(status.voluntary_ctxt_switches.has_value());
  EXPECT_FALSE(ParseProcStatus("").threads.has_value());
}

TEST(ProcStatusParserTest, name_keeps_the_kernels_escaping) {
  auto status = ParseProcStatus("Name:\ta\\nb c\nThreads:\t1\n");
  ASSERT_TRUE(status.name.has_value());
  EXPECT_EQ(*status.name, "a\\nb c");
}

TEST(ProcIoParserTest, reads_all_four_byte_counters) {
  auto io = ParseProcIo(
      "rchar: 6976\nwchar: 12\nsyscr: 10\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 8192\n"
      "cancelled_write_bytes: 0\n");
  EXPECT_EQ(io.rchar, 6976u);
  EXPECT_EQ(io.wchar, 12u);
  EXPECT_EQ(io.read_bytes, 4096u);
  EXPECT_EQ(io.write_bytes, 8192u);
}

TEST(ProcIoParserTest, missing_lines_stay_unset) {
  auto io = ParseProcIo("rchar: 1\n");
  EXPECT_EQ(io.rchar, 1u);
  EXPECT_FALSE(io.read_bytes.has_value());
  EXPECT_FALSE(io.write_bytes.has_value());
}

constexpr std::string_view kLimits =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max open files            1024                 524288               files     \n"
    "Max address space         unlimited            unlimited            bytes     \n";

TEST(ProcLimitsParserTest, max_open_files_soft_limit) {
  EXPECT_EQ(ParseMaxOpenFiles(kLimits), 1024u);
}

TEST(ProcLimitsParserTest, unlimited_soft_limit) {
  EXPECT_EQ(ParseSoftLimit(kLimits, "Max address space"), kUnlimited);
  EXPECT_EQ(ParseMaxOpenFiles("Max open files            unlimited            unlimited   files\n"),
            kUnlimited);
}

TEST(ProcLimitsParserTest, absent_or_malformed_row) {
  EXPECT_FALSE(ParseMaxOpenFiles("Limit  Soft Limit  Hard Limit  Units\n").has_value());
  EXPECT_FALSE(ParseMaxOpenFiles("Max open files            lots   lots   files\n").has_value());
  EXPECT_FALSE(ParseMaxOpenFiles("Max open files\n").has_value());
  // A row whose name merely starts like the one asked for does not count.
  EXPECT_FALSE(ParseSoftLimit("Max open filesystems   5   5\n", "Max open files").has_value());
}

TEST(CmdlineParserTest, nul_separated_arguments_are_joined_by_spaces) {
  std::string raw("postgres\0-D\0/var/lib/postgresql/15/main\0", 40);
  EXPECT_EQ(JoinCmdline(raw), "postgres -D /var/lib/postgresql/15/main");
  EXPECT_EQ(SplitCmdline(raw),
            (std::vector<std::string>{"postgres", "-D", "/var/lib/postgresql/15/main"}));
}

TEST(CmdlineParserTest, rewritten_argv_and_empty_cmdline) {
  EXPECT_EQ(JoinCmdline("postgres: checkpointer "s + '\0'), "postgres: checkpointer ");
  EXPECT_EQ(JoinCmdline(""), "");
  EXPECT_TRUE(SplitCmdline("").empty());
  EXPECT_EQ(SplitCmdline("a\0\0b"s), (std::vector<std::string>{"a", "", "b"}));
}

TEST(ExeTargetTest, deleted_suffix_is_stripped) {
  EXPECT_EQ(StripDeletedSuffix("/usr/bin/redis-server (deleted)"), "/usr/bin/redis-server");
  EXPECT_EQ(StripDeletedSuffix("/usr/bin/redis-server"), "/usr/bin/redis-server");
  EXPECT_EQ(StripDeletedSuffix(" (deleted)"), " (deleted)");
}

TEST(SystemFilesParserTest, boot_time_mem_total_and_cpus) {
  std::string stat =
      "cpu  10 0 5 100 0 0 0 0 0 0\ncpu0 5 0 2 50 0 0 0 0 0 0\ncpu1 5 0 3 50 0 0 0 0 0 0\n"
      "intr 1 2 3\nctxt 5\nbtime 1700000000\nprocesses 9\n";
  EXPECT_EQ(ParseBootTime(stat), 1700000000);
  EXPECT_EQ(CountCpuLines(stat), 2);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n").has_value());
  EXPECT_EQ(ParseMemTotalBytes("MemTotal:       16314180 kB\nMemFree: 1 kB\n"), 16314180ull * 1024);
  EXPECT_FALSE(ParseMemTotalBytes("MemFree: 1 kB\n").has_value());
}

TEST(SystemFilesParserTest, pidfile) {
  EXPECT_EQ(ParsePidfile("4242\n"), 4242);
  EXPECT_EQ(ParsePidfile("  4242  \nextra\n"), 4242);
  EXPECT_FALSE(ParsePidfile("").has_value());
  EXPECT_FALSE(ParsePidfile("0\n").has_value());
  EXPECT_FALSE(ParsePidfile("-5\n").has_value());
  EXPECT_FALSE(ParsePidfile("abc\n").has_value());
}

TEST(SystemConstantsTest, come_from_sysconf) {
  EXPECT_EQ(ClockTicksPerSecond(), sysconf(_SC_CLK_TCK));
  EXPECT_EQ(PageSizeBytes(), sysconf(_SC_PAGESIZE));
  EXPECT_GT(ClockTicksPerSecond(), 0);
}

TEST(ReadErrorTest, errno_classification) {
  EXPECT_EQ(ClassifyErrno(ENOENT), ReadError::kVanished);
  EXPECT_EQ(ClassifyErrno(ESRCH), ReadError::kVanished);
  EXPECT_EQ(ClassifyErrno(EACCES), ReadError::kPermission);
  EXPECT_EQ(ClassifyErrno(EPERM), ReadError::kPermission);
  EXPECT_EQ(ClassifyErrno(EMFILE), ReadError::kOther);
  EXPECT_STREQ(ReadErrorName(ReadError::kPermission), "permission");
  EXPECT_STREQ(ReadErrorName(ReadError::kVanished), "vanished");
  EXPECT_STREQ(ReadErrorName(ReadError::kParse), "parse");
}

// --- ProcfsReader over the fixture tree ------------------------------------------------------

TEST(ProcfsReaderTest, lists_numeric_entries_only) {
  ProcfsReader reader(kFixture);
  auto pids = reader.ListPids();
  ASSERT_TRUE(pids.ok()) << pids.error().message();
  std::vector<int> sorted = *pids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<int>{2, 100, 101, 200, 300, 400, 500, 600}));
  EXPECT_FALSE(reader.is_live());
}

TEST(ProcfsReaderTest, missing_root_is_an_error_naming_it) {
  ProcfsReader reader("collectors/process/testdata/no-such-proc");
  auto pids = reader.ListPids();
  ASSERT_FALSE(pids.ok());
  EXPECT_NE(pids.error().message().find("no-such-proc"), std::string::npos);
}

TEST(ProcfsReaderTest, reads_one_process) {
  ProcfsReader reader(kFixture);
  auto stat = reader.ReadStat("100");
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(stat->comm, "postgres");
  EXPECT_EQ(stat->utime, 150u);
  auto status = reader.ReadStatus("100");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->vm_swap_bytes, 1024u * 1024);
  auto io = reader.ReadIo("100");
  ASSERT_TRUE(io.ok());
  EXPECT_EQ(io->read_bytes, 4096000u);
  EXPECT_EQ(reader.ReadMaxOpenFiles("100").value(), 1024u);
  EXPECT_EQ(reader.CountOpenFds("100").value(), 4u);
  EXPECT_EQ(reader.ReadCmdline("100").value(), "postgres -D /var/lib/postgresql/15/main");
  EXPECT_EQ(reader.ReadExe("100").value(), "/usr/lib/postgresql/15/bin/postgres");
}

TEST(ProcfsReaderTest, hostile_comm_from_fixture) {
  ProcfsReader reader(kFixture);
  auto stat = reader.ReadStat("600");
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(stat->comm, "evil) S 1 (x");
  EXPECT_EQ(stat->state, 'Z');
}

TEST(ProcfsReaderTest, deleted_exe_and_unlimited_fds) {
  ProcfsReader reader(kFixture);
  EXPECT_EQ(reader.ReadExe("200").value(), "/usr/bin/redis-server");
  EXPECT_EQ(reader.ReadMaxOpenFiles("300").value(), kUnlimited);
}

TEST(ProcfsReaderTest, kernel_thread_has_no_exe_and_no_cmdline) {
  ProcfsReader reader(kFixture);
  auto exe = reader.ReadExe("2");
  ASSERT_TRUE(exe.ok());
  EXPECT_EQ(*exe, "");
  EXPECT_EQ(reader.ReadCmdline("2").value(), "");
}

TEST(ProcfsReaderTest, absent_file_of_a_live_process_is_missing_not_vanished) {
  ProcfsReader reader(kFixture);
  auto io = reader.ReadIo("200");
  ASSERT_FALSE(io.ok());
  EXPECT_EQ(io.error(), ReadError::kMissing);
}

TEST(ProcfsReaderTest, absent_process_is_vanished) {
  ProcfsReader reader(kFixture);
  auto stat = reader.ReadStat("4242");
  ASSERT_FALSE(stat.ok());
  EXPECT_EQ(stat.error(), ReadError::kVanished);
  EXPECT_EQ(reader.CountOpenFds("4242").error(), ReadError::kVanished);
  EXPECT_EQ(reader.ReadExe("4242").error(), ReadError::kVanished);
}

TEST(ProcfsReaderTest, injected_permission_errors) {
  ProcfsReader reader(kFixture, [](std::string_view proc, std::string_view file) {
    return proc == "100" && (file == "io" || file == "fd" || file == "exe") ? EACCES : 0;
  });
  EXPECT_EQ(reader.ReadIo("100").error(), ReadError::kPermission);
  EXPECT_EQ(reader.CountOpenFds("100").error(), ReadError::kPermission);
  EXPECT_EQ(reader.ReadExe("100").error(), ReadError::kPermission);
  EXPECT_TRUE(reader.ReadStat("100").ok());
  EXPECT_TRUE(reader.ReadIo("101").ok());
}

TEST(ProcfsReaderTest, self_link_and_root_files) {
  ProcfsReader reader(kFixture);
  EXPECT_EQ(reader.ReadSelfPid(), 300);
  auto cgroup = reader.ReadFile("self/cgroup");
  ASSERT_TRUE(cgroup.ok());
  EXPECT_EQ(*cgroup, "0::/system.slice/tacho.service\n");
  auto stat = reader.ReadFile("stat");
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(ParseBootTime(*stat), 1700000000);
  EXPECT_EQ(reader.ReadFile("nope").error(), ReadError::kVanished);
}

class PidfileTest : public base::TempDirTest {
 protected:
  ProcfsReader reader_{kFixture};
};

TEST_F(PidfileTest, reads_a_regular_file) {
  std::ofstream(Path("d.pid")) << "4242\n";
  auto text = reader_.ReadPidfile(Path("d.pid"), false);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "4242\n");
  EXPECT_EQ(reader_.ReadPidfile(Path("absent.pid"), false).error(), ReadError::kVanished);
}

TEST_F(PidfileTest, a_fifo_is_refused_without_blocking) {
  ASSERT_EQ(mkfifo(Path("d.pid").c_str(), 0600), 0);
  // Without O_NONBLOCK this open would wait for a writer for good.
  EXPECT_EQ(reader_.ReadPidfile(Path("d.pid"), false).error(), ReadError::kOther);
  EXPECT_EQ(reader_.ReadPidfile(Path("d.pid"), true).error(), ReadError::kOther);
}

TEST_F(PidfileTest, symlinks_are_followed_only_when_configured) {
  std::ofstream(Path("real.pid")) << "4242\n";
  std::filesystem::create_symlink(Path("real.pid"), Path("link.pid"));
  EXPECT_EQ(reader_.ReadPidfile(Path("link.pid"), false).error(), ReadError::kOther);
  auto text = reader_.ReadPidfile(Path("link.pid"), true);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "4242\n");
}

TEST_F(PidfileTest, devices_are_refused_even_through_a_followed_symlink) {
  std::filesystem::create_symlink("/dev/zero", Path("zero.pid"));
  EXPECT_EQ(reader_.ReadPidfile(Path("zero.pid"), false).error(), ReadError::kOther);
  EXPECT_EQ(reader_.ReadPidfile(Path("zero.pid"), true).error(), ReadError::kOther);
  EXPECT_EQ(reader_.ReadPidfile(dir_.string(), true).error(), ReadError::kOther) << "a directory";
}

TEST_F(PidfileTest, reads_at_most_the_cap_of_a_large_file) {
  std::ofstream(Path("big.pid")) << "4242\n" << std::string(1 << 20, 'x');
  auto text = reader_.ReadPidfile(Path("big.pid"), false);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->size(), ProcfsReader::kPidfileMaxBytes);
  EXPECT_EQ(ParsePidfile(*text), 4242);
}

TEST(ProcfsReaderTest, unreadable_io_file_is_a_permission_error) {
  if (geteuid() == 0) {
    GTEST_SKIP() << "root reads mode-000 files; injected_permission_errors covers this case";
  }
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("tacho-procfs-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "77");
  std::ofstream(dir / "77" / "io") << "read_bytes: 1\nwrite_bytes: 2\n";
  chmod((dir / "77" / "io").c_str(), 0);
  ProcfsReader reader(dir.string());
  auto io = reader.ReadIo("77");
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(io.ok());
  EXPECT_EQ(io.error(), ReadError::kPermission);
}

TEST(ProcfsReaderTest, live_self_process) {
  ProcfsReader reader("/proc");
  EXPECT_TRUE(reader.is_live());
  EXPECT_EQ(reader.ReadSelfPid(), getpid());
  auto stat = reader.ReadStat("self");
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(stat->pid, getpid());
  EXPECT_GE(reader.CountOpenFds("self").value(), 3u);
  auto io = reader.ReadIo("self");
  if (!io.ok()) {
    EXPECT_EQ(io.error(), ReadError::kMissing);  // a kernel without CONFIG_TASK_IO_ACCOUNTING
  }
}

}  // namespace
}  // namespace tacho::collectors::process

// Helpers shared by the process collector's tests: temporary copies of fixture trees, a config
// section loaded through the real loader, and lookups in collected families.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agent/collector.h"
#include "agent/collector_test_util.h"
#include "agent/metric_sink.h"
#include "agent/metric_sink_test_util.h"
#include "base/test_files.h"
#include "collectors/process/process_collector.h"
#include "config/config.h"

namespace tacho::collectors::process::testutil {

namespace fs = std::filesystem;

inline constexpr const char* kProcBasic = "collectors/process/testdata/proc-basic";
inline constexpr const char* kCgroupV2 = "collectors/process/testdata/cgroup-v2";

// A temporary directory, removed with its content on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "tacho-process-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A copy of a fixture tree that a test may mutate.
class FixtureCopy {
 public:
  explicit FixtureCopy(const fs::path& source = kProcBasic) {
    fs::copy(source, root(), fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  }
  fs::path root() const { return dir_.path() / "proc"; }
  fs::path pid(int pid) const { return root() / std::to_string(pid); }
  fs::path scratch() const { return dir_.path(); }

  // Rewrites the stat field at `index` counted from the first field after comm (0 = state).
  void SetStatField(int pid, int index, const std::string& value) const {
    fs::path path = this->pid(pid) / "stat";
    std::string text = Read(path);
    std::size_t close = text.rfind(')');
    std::istringstream rest(text.substr(close + 1));
    std::vector<std::string> fields;
    for (std::string f; rest >> f;) fields.push_back(f);
    fields.at(index) = value;
    std::string out = text.substr(0, close + 1);
    for (const auto& f : fields) out += " " + f;
    std::ofstream(path, std::ios::trunc) << out << "\n";
  }
  void SetUtime(int pid, std::uint64_t ticks) const {
    SetStatField(pid, 11, std::to_string(ticks));
  }
  void SetStarttime(int pid, std::uint64_t ticks) const {
    SetStatField(pid, 19, std::to_string(ticks));
  }
  void Remove(int pid) const { fs::remove_all(this->pid(pid)); }
  void Clone(int from, int to) const {
    fs::copy(pid(from), pid(to), fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    std::string stat = Read(pid(to) / "stat");
    stat.replace(0, stat.find(' '), std::to_string(to));
    std::ofstream(pid(to) / "stat", std::ios::trunc) << stat;
  }
  static std::string Read(const fs::path& path) {
    return base::testing::ReadFileIfExists(path.string()).value_or("");
  }

 private:
  TempDir dir_;
};

// Loads `body` (the keys of one [[collectors.process]] table, and its groups) with the real
// config loader.
inline Expected<config::Config, config::Error> LoadProcessConfig(const std::string& body) {
  static const agent::CollectorKind kind = ProcessCollectorKind();
  return agent::testutil::LoadCollectorConfig(kind, "procs", body);
}

inline Expected<std::unique_ptr<agent::Collector>, config::Error> MakeCollector(
    const std::string& body) {
  auto config = LoadProcessConfig(body);
  if (!config.ok()) return config.error();
  return ProcessCollectorKind().create(config->collectors.at(0).section, agent::Environment{});
}

inline agent::CollectContext Context(std::chrono::milliseconds budget = std::chrono::seconds(30)) {
  agent::CollectContext ctx;
  ctx.deadline = std::chrono::steady_clock::now() + budget;
  ctx.started_at = std::chrono::system_clock::now();
  return ctx;
}

using agent::testutil::Samples;

// Runs one collection; fails the test on a sink conflict.
inline Status CollectInto(agent::Collector& collector, Samples& samples,
                          const agent::CollectContext& ctx = Context()) {
  agent::MetricSink sink;
  Status status = collector.Collect(ctx, sink);
  EXPECT_TRUE(sink.conflicts().empty()) << sink.conflicts().front();
  samples = Samples(sink.Take());
  return status;
}

}  // namespace tacho::collectors::process::testutil

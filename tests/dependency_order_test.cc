// The dependency order of tacho's modules, checked on every `#include "..."` of the tree.
//
//   base -> config -> agent (core) -> agent/alerts -> agent/score
//                                  \-> collectors/<kind>
//                                  \-> exporters/http
//                     agent/alerts -> exporters/webhook
//   agent/main: the top, the only module that may include every other one.
//
// A module may include itself and the modules listed as below it, nothing else: no folder
// includes another both ways, and the agent core never learns a collector kind (it also never
// names one in a string literal; a kind declares what the core needs in its CollectorKind).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/test_files.h"
#include "collectors/all.h"

namespace tacho {
namespace {

namespace fs = std::filesystem;

// Every module and the modules it may include (besides itself). "collectors/*" stands for
// each collectors/<kind>/ folder on its own.
const std::map<std::string, std::set<std::string>>& Allowed() {
  static const std::map<std::string, std::set<std::string>> kAllowed = {
      {"base", {}},
      {"config", {"base"}},
      {"agent", {"base", "config"}},
      {"agent/alerts", {"base", "config", "agent"}},
      {"agent/score", {"base", "config", "agent", "agent/alerts"}},
      {"collectors/*", {"base", "config", "agent"}},
      {"collectors", {"base", "config", "agent", "collectors/*"}},  // all.{h,cc}: the registry
      {"exporters/http", {"base", "config", "agent"}},
      {"exporters/webhook", {"base", "config", "agent", "agent/alerts"}},
      {"agent/main",
       {"base", "config", "agent", "agent/alerts", "agent/score", "collectors", "collectors/*",
        "exporters/http", "exporters/webhook"}},
      {"tests", {"base", "config", "agent", "collectors", "collectors/*"}},
  };
  return kAllowed;
}

// Headers one collector may include from another, with the reason.
const std::map<std::string, std::string>& SharedCollectorHeaders() {
  static const std::map<std::string, std::string> kShared = {
      {"collectors/postgres/conninfo.h",
       "libpq connection strings; PgBouncer's admin console speaks the same protocol"},
  };
  return kShared;
}

// The module of a path relative to the source root: the longest folder of Allowed() that
// holds it ("collectors/redis/x.h" -> "collectors/*"); empty for files outside every module.
std::string ModuleOf(const std::string& path) {
  if (path.starts_with("collectors/") && path.find('/', 11) != std::string::npos) {
    return "collectors/*";
  }
  std::string best;
  for (const auto& [module, deps] : Allowed()) {
    if (module.find('*') != std::string::npos) continue;
    if (path.starts_with(module + "/") && module.size() > best.size()) best = module;
  }
  return best;
}

// "collectors/redis/x.h" -> "collectors/redis": the folder a collector's own includes stay in.
std::string CollectorFolder(const std::string& path) { return path.substr(0, path.find('/', 11)); }

std::string Read(const fs::path& path) {
  return base::testing::ReadFileIfExists(path.string()).value_or("");
}

struct Source {
  std::string path;  // relative to the source root
  std::string text;
};

std::vector<Source> Sources() {
  const fs::path root(TACHO_SOURCE_DIR);
  std::vector<Source> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name.starts_with(".") || name.starts_with("build"))) {
      it.disable_recursion_pending();
      continue;
    }
    const std::string ext = it->path().extension().string();
    if (!it->is_regular_file() || (ext != ".h" && ext != ".cc" && ext != ".in")) continue;
    out.push_back({fs::relative(it->path(), root).string(), Read(it->path())});
  }
  std::sort(out.begin(), out.end(),
            [](const Source& a, const Source& b) { return a.path < b.path; });
  return out;
}

std::vector<std::string> Includes(const std::string& text) {
  static const std::regex kInclude(R"re(^\s*#\s*include\s+"([^"]+)")re");
  std::vector<std::string> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, kInclude)) out.push_back(m[1]);
  }
  return out;
}

TEST(DependencyOrderTest, every_source_file_belongs_to_a_module) {
  for (const Source& s : Sources()) {
    EXPECT_FALSE(ModuleOf(s.path).empty())
        << s.path << " is outside every module; add its folder to the dependency order";
  }
}

TEST(DependencyOrderTest, includes_follow_the_dependency_order) {
  const std::vector<Source> sources = Sources();
  ASSERT_GT(sources.size(), 100u) << "the walk found too few sources under " << TACHO_SOURCE_DIR;
  std::size_t checked = 0;
  for (const Source& s : sources) {
    const std::string from = ModuleOf(s.path);
    for (const std::string& included : Includes(s.text)) {
      const std::string to = ModuleOf(included);
      if (to.empty()) continue;  // a library's header ("gtest/gtest.h")
      ++checked;
      if (from == "collectors/*" && to == "collectors/*") {
        if (CollectorFolder(included) == CollectorFolder(s.path)) continue;
        EXPECT_TRUE(SharedCollectorHeaders().count(included) != 0)
            << s.path << " includes " << included
            << ": a collector includes another collector's files only where they are listed as "
               "shared";
        continue;
      }
      if (to == from) continue;
      const auto allowed = Allowed().find(from);
      ASSERT_NE(allowed, Allowed().end()) << s.path;
      EXPECT_TRUE(allowed->second.count(to) != 0)
          << s.path << " (" << from << ") includes " << included << " (" << to
          << "), which is not below it in the dependency order";
    }
  }
  EXPECT_GT(checked, 300u) << "too few includes checked: is the include pattern still right?";
}

// Comments stripped, so that documentation may still name the kinds it talks about.
std::string WithoutComments(const std::string& text) {
  static const std::regex kLineComment(R"(//[^\n]*)");
  return std::regex_replace(text, kLineComment, "");
}

TEST(DependencyOrderTest, the_core_never_names_a_collector_kind) {
  agent::CollectorRegistry registry;
  collectors::RegisterBuiltinCollectors(registry);
  ASSERT_FALSE(registry.Kinds().empty());
  const std::set<std::string> core = {
      "base",           "config",           "agent", "agent/alerts", "agent/score",
      "exporters/http", "exporters/webhook"};
  for (const Source& s : Sources()) {
    if (core.count(ModuleOf(s.path)) == 0 || s.path.ends_with("_test.cc")) continue;
    const std::string code = WithoutComments(s.text);
    for (const agent::CollectorKind* kind : registry.Kinds()) {
      EXPECT_EQ(code.find("\"" + kind->name + "\""), std::string::npos)
          << s.path << " names the collector kind \"" << kind->name
          << "\"; declare what the core needs in the kind's CollectorKind instead";
    }
  }
}

TEST(DependencyOrderTest, module_of_maps_folders) {
  EXPECT_EQ(ModuleOf("base/status.h"), "base");
  EXPECT_EQ(ModuleOf("agent/runtime.h"), "agent");
  EXPECT_EQ(ModuleOf("agent/alerts/promql.h"), "agent/alerts");
  EXPECT_EQ(ModuleOf("agent/main/agent.cc"), "agent/main");
  EXPECT_EQ(ModuleOf("collectors/all.h"), "collectors");
  EXPECT_EQ(ModuleOf("collectors/redis/resp.h"), "collectors/*");
  EXPECT_EQ(ModuleOf("exporters/webhook/outbox.h"), "exporters/webhook");
  EXPECT_EQ(ModuleOf("scripts/x.cc"), "");
}

}  // namespace
}  // namespace tacho

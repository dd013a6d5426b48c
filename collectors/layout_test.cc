// Every collector is a folder with a README listing its metrics and a sample.toml that loads.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/test_files.h"
#include "collectors/all.h"

namespace tacho::collectors {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& path) {
  return base::testing::ReadFileIfExists(path.string()).value_or("");
}

std::vector<fs::path> CollectorDirs() {
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(fs::path(TACHO_SOURCE_DIR) / "collectors")) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  return dirs;
}

TEST(CollectorLayoutTest, every_registered_kind_has_a_folder) {
  agent::CollectorRegistry registry;
  RegisterBuiltinCollectors(registry);
  ASSERT_FALSE(registry.Kinds().empty());
  for (const agent::CollectorKind* kind : registry.Kinds()) {
    bool found = false;
    for (const fs::path& dir : CollectorDirs()) {
      std::string sample = Read(dir / "sample.toml");
      if (sample.find("[[collectors." + kind->name + "]]") != std::string::npos) found = true;
    }
    EXPECT_TRUE(found) << "no collectors/<folder>/sample.toml defines [[collectors." << kind->name
                       << "]]";
  }
}

TEST(CollectorLayoutTest, every_folder_has_readme_and_loadable_sample) {
  agent::CollectorRegistry registry;
  RegisterBuiltinCollectors(registry);
  auto dirs = CollectorDirs();
  ASSERT_FALSE(dirs.empty());
  for (const fs::path& dir : dirs) {
    SCOPED_TRACE(dir.string());
    ASSERT_TRUE(fs::exists(dir / "README.md")) << "missing README.md";
    const std::string readme = Read(dir / "README.md");
    EXPECT_NE(readme.find("| metric"), std::string::npos)
        << "README.md needs a metrics table (| metric | type | ...)";
    ASSERT_TRUE(fs::exists(dir / "sample.toml")) << "missing sample.toml";
    auto config = config::LoadFile((dir / "sample.toml").string(), registry.Schemas());
    ASSERT_TRUE(config) << config.error().ToString();
    EXPECT_FALSE(config->collectors.empty()) << "sample.toml defines no collector instance";
    for (const config::CollectorInstance& instance : config->collectors) {
      const agent::CollectorKind* kind = registry.Find(instance.kind);
      agent::Environment env{instance.name, instance.interval, instance.timeout, "/tmp"};
      auto collector = kind->create(instance.section, env);
      EXPECT_TRUE(collector) << "sample instance '" << instance.name
                             << "' is rejected at configure time: " << collector.error().ToString();
    }
  }
}

TEST(CollectorLayoutTest, readme_documents_its_config_table) {
  // Each README names the kinds' metric families; spot-check that the README is about this
  // kind by naming its [[collectors.<kind>]] table.
  for (const fs::path& dir : CollectorDirs()) {
    const std::string readme = Read(dir / "README.md");
    const std::string sample = Read(dir / "sample.toml");
    auto start = sample.find("[[collectors.");
    ASSERT_NE(start, std::string::npos) << dir;
    auto end = sample.find("]]", start);
    EXPECT_NE(readme.find(sample.substr(start, end + 2 - start)), std::string::npos)
        << dir << "/README.md does not document its " << sample.substr(start, end + 2 - start)
        << " table";
  }
}

}  // namespace
}  // namespace tacho::collectors

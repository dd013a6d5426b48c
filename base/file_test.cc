#include "base/file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/temp_dir_test_util.h"
#include "base/test_files.h"

namespace tacho::base {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public TempDirTest {
 protected:
  static std::string Read(const std::string& path) {
    return testing::ReadFileIfExists(path).value_or("");
  }
  std::size_t Entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }
};

TEST_F(AtomicFileTest, writes_and_replaces_leaving_no_temporary_file) {
  ASSERT_TRUE(WriteFileAtomically(Path("state.json"), "one\n").ok());
  ASSERT_TRUE(WriteFileAtomically(Path("state.json"), "two\n").ok());
  EXPECT_EQ(Read(Path("state.json")), "two\n");
  EXPECT_EQ(Entries(), 1u);
  EXPECT_EQ(fs::status(Path("state.json")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(AtomicFileTest, a_failed_rename_keeps_the_old_content_and_removes_the_temporary) {
  fs::create_directories(Path("taken"));  // a directory where the file should go
  Status s = WriteFileAtomically(Path("taken"), "new\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("cannot rename " + TemporaryPathFor(Path("taken")) + ": ", 0), 0u)
      << s.message();
  EXPECT_FALSE(fs::exists(TemporaryPathFor(Path("taken"))));
  EXPECT_TRUE(fs::is_directory(Path("taken")));
}

TEST_F(AtomicFileTest, a_missing_directory_is_an_error_naming_the_path) {
  Status s = WriteFileAtomically(Path("nope/state.json"), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "cannot create " + Path("nope/.state.json.tmp") + ": No such file or directory");
}

TEST_F(AtomicFileTest, leftover_temporary_files_are_removed) {
  std::ofstream(Path(".a.msg.tmp")) << "partial";
  std::ofstream(Path(".b.json.tmp")) << "partial";
  std::ofstream(Path("keep.msg")) << "whole";
  std::ofstream(Path("keep.tmp")) << "not ours: no leading dot";
  EXPECT_EQ(RemoveTemporaryFiles(dir_.string()), 2);
  EXPECT_EQ(Entries(), 2u);
  EXPECT_TRUE(fs::exists(Path("keep.msg")));
}

}  // namespace
}  // namespace tacho::base

#include "exporters/webhook/outbox.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/temp_dir_test_util.h"

namespace tacho::webhook {
namespace {

namespace fs = std::filesystem;

class OutboxTest : public base::TempDirTest {};

TEST_F(OutboxTest, entries_survive_a_reopen_in_creation_order) {
  {
    Outbox outbox;
    ASSERT_TRUE(outbox.Open(dir_.string()).ok());
    ASSERT_TRUE(outbox.Add("oncall", "{\"n\":2}", 2000).ok());
    ASSERT_TRUE(outbox.Add("oncall", "{\"n\":1}", 1000).ok());
  }
  Outbox reopened;
  ASSERT_TRUE(reopened.Open(dir_.string()).ok());
  ASSERT_EQ(reopened.size(), 2u);
  auto pending = reopened.Pending("oncall");
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0]->body, "{\"n\":1}");
  EXPECT_EQ(pending[0]->created_ms, 1000);
  EXPECT_EQ(pending[1]->body, "{\"n\":2}");
}

TEST_F(OutboxTest, open_removes_temporary_files_left_by_an_interrupted_write) {
  std::ofstream(dir_ / ".0000000000001000-msg_00.msg.tmp") << "{\"id\":\"msg_00\"}\n{";
  Outbox outbox;
  ASSERT_TRUE(outbox.Open(dir_.string()).ok());
  EXPECT_EQ(outbox.size(), 0u);
  EXPECT_TRUE(fs::is_empty(dir_));
}

}  // namespace
}  // namespace tacho::webhook

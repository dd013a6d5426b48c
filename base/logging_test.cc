#include "base/logging.h"

#include <gtest/gtest.h>

namespace tacho::base {
namespace {

TEST(LogPayloadTest, text_lines_escape_control_characters_after_redaction) {
  SetRedactedSecrets({"s3cret"});
  EXPECT_EQ(LogPayload("hook said: token=s3cret\nFAKE error line", false),
            "hook said: token=<redacted>\\nFAKE error line");
  EXPECT_EQ(LogPayload("hook said: \"s3cret\"\n", true), "hook said: \\\"<redacted>\\\"\\n");
  SetRedactedSecrets({});
}

}  // namespace
}  // namespace tacho::base

#include "base/text.h"

#include <gtest/gtest.h>

namespace tacho::base {
namespace {

TEST(OneLineTest, folds_whitespace_runs_into_one_space) {
  EXPECT_EQ(OneLine("ERROR:  relation \"x\" does not exist\nLINE 1: SELECT\t1\n"),
            "ERROR: relation \"x\" does not exist LINE 1: SELECT 1");
  EXPECT_EQ(OneLine("\n  \n"), "");
}

TEST(EscapeControlCharactersTest, one_event_stays_one_line) {
  EXPECT_EQ(EscapeControlCharacters("503 from hook: <html>\n2026-12-06T00:00:00Z error forged\r"),
            "503 from hook: <html>\\n2026-12-06T00:00:00Z error forged\\r");
  EXPECT_EQ(EscapeControlCharacters("\x1b[2J\ttab\x7f"), "\\x1B[2J\\ttab\\x7F");
  EXPECT_EQ(EscapeControlCharacters("tablé \\ plain"), "tablé \\ plain");
}

TEST(Utf8Test, valid_text_is_unchanged) {
  for (const char* text : {"", "orders", "tablé", "日本語", "\xF0\x9F\x98\x80", "a\\b"}) {
    EXPECT_TRUE(IsValidUtf8(text)) << text;
    EXPECT_EQ(EscapeInvalidUtf8(text), text);
  }
}

TEST(Utf8Test, invalid_bytes_are_escaped_reversibly) {
  EXPECT_FALSE(IsValidUtf8("tabl\xE9"));
  EXPECT_EQ(EscapeInvalidUtf8("tabl\xE9"), "tabl\\xE9");
  EXPECT_NE(EscapeInvalidUtf8("tabl\xE9"), EscapeInvalidUtf8("tabl\xE8"))
      << "names that differ only in invalid bytes stay two series";
  EXPECT_EQ(EscapeInvalidUtf8("C:\\x\xFF"), "C:\\\\x\\xFF") << "backslashes are escaped too";
  EXPECT_EQ(EscapeInvalidUtf8("\xC3\xA9\xC3"), "\xC3\xA9\\xC3") << "a truncated sequence";
  EXPECT_EQ(EscapeInvalidUtf8("\xC0\xAF"), "\\xC0\\xAF") << "an overlong form";
  EXPECT_EQ(EscapeInvalidUtf8("\xED\xA0\x80"), "\\xED\\xA0\\x80") << "a surrogate";
  EXPECT_EQ(EscapeInvalidUtf8("\xF4\x90\x80\x80"), "\\xF4\\x90\\x80\\x80") << "above U+10FFFF";
  EXPECT_TRUE(IsValidUtf8(EscapeInvalidUtf8("\xFF\xFE\x80")));
}

TEST(RedactConnectionPasswordsTest, redacts_uri_userinfo_passwords) {
  EXPECT_EQ(RedactConnectionPasswords("invalid URI propagated to internal parser routine: "
                                      "\"postgresql://tacho:s3cret@[::1:5432/app\""),
            "invalid URI propagated to internal parser routine: "
            "\"postgresql://tacho:<redacted>@[::1:5432/app\"");
  EXPECT_EQ(RedactConnectionPasswords("redis://:p@ss@127.0.0.1:6379/0 failed"),
            "redis://:<redacted>@127.0.0.1:6379/0 failed")
      << "the last @ ends the userinfo";
  EXPECT_EQ(RedactConnectionPasswords("postgresql://tacho@db/app"), "postgresql://tacho@db/app")
      << "no password: unchanged";
  EXPECT_EQ(RedactConnectionPasswords("see https://example.com/a:b@c"),
            "see https://example.com/a:b@c")
      << "an @ in the path is not userinfo";
}

TEST(RedactConnectionPasswordsTest, redacts_keyword_values_quoted_or_bare) {
  EXPECT_EQ(RedactConnectionPasswords("host=db password=s3cret user=x"),
            "host=db password=<redacted> user=x");
  EXPECT_EQ(RedactConnectionPasswords("host=db password = 'it\\'s a secret' user=x"),
            "host=db password = <redacted> user=x");
  EXPECT_EQ(RedactConnectionPasswords("postgresql://db/app?sslmode=require&password=s3cret#x"),
            "postgresql://db/app?sslmode=require&password=<redacted>#x");
  EXPECT_EQ(RedactConnectionPasswords("sslpassword=k1 password=k2"),
            "sslpassword=<redacted> password=<redacted>");
  EXPECT_EQ(RedactConnectionPasswords("missing \"=\" after \"password\" in connection info"),
            "missing \"=\" after \"password\" in connection info");
  EXPECT_EQ(RedactConnectionPasswords("password='unterminated"), "password=<redacted>");
}

}  // namespace
}  // namespace tacho::base

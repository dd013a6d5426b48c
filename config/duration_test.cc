#include <gtest/gtest.h>

#include "config/config.h"

namespace tacho::config {
namespace {

TEST(DurationTest, parses_units_and_compounds) {
  EXPECT_EQ(*ParseDuration("250ms"), Duration(250));
  EXPECT_EQ(*ParseDuration("15s"), Duration(15000));
  EXPECT_EQ(*ParseDuration("1m30s"), Duration(90000));
  EXPECT_EQ(*ParseDuration("2h"), Duration(7200000));
  EXPECT_EQ(*ParseDuration("1d"), Duration(86400000));
}

TEST(DurationTest, rejects_missing_or_unknown_units) {
  EXPECT_FALSE(ParseDuration(""));
  EXPECT_FALSE(ParseDuration("15"));
  EXPECT_FALSE(ParseDuration("15x"));
  EXPECT_FALSE(ParseDuration("s"));
  EXPECT_FALSE(ParseDuration("-5s"));
  EXPECT_FALSE(ParseDuration("1.5s"));
}

TEST(DurationTest, rejects_durations_that_would_overflow) {
  EXPECT_EQ(*ParseDuration("36500d"), kMaxDuration);
  EXPECT_EQ(ParseDuration("999999999999d").error(), "duration is too large (at most 36500d)");
  EXPECT_EQ(ParseDuration("36500d1ms").error(), "duration is too large (at most 36500d)");
  EXPECT_EQ(ParseDuration("99999999999999999999s").error(),
            "duration is too large (at most 36500d)");
  EXPECT_EQ(ParseDuration("20000d20000d").error(), "duration is too large (at most 36500d)");
}

TEST(DurationTest, formats_round_trip) {
  for (const char* text : {"250ms", "15s", "1m30s", "2h", "1d", "1h1m1s1ms"}) {
    EXPECT_EQ(FormatDuration(*ParseDuration(text)), text);
  }
}

TEST(SuggestTest, suggests_close_words_only) {
  EXPECT_EQ(Suggest("intervall", {"interval", "timeout", "name"}), "interval");
  EXPECT_EQ(Suggest("tmeout", {"interval", "timeout", "name"}), "timeout");
  EXPECT_EQ(Suggest("zzzzzz", {"interval", "timeout", "name"}), "");
}

}  // namespace
}  // namespace tacho::config

#include "collectors/postgres/query_text.h"

#include <gtest/gtest.h>

namespace tacho::collectors::postgres {
namespace {

TEST(QueryTextTest, collapses_whitespace_and_trims) {
  EXPECT_EQ(NormalizeQueryText("  SELECT *\n\t FROM  t\r\nWHERE id = $1  \n"),
            "SELECT * FROM t WHERE id = $1");
  EXPECT_EQ(NormalizeQueryText(""), "");
  EXPECT_EQ(NormalizeQueryText(" \n\t "), "");
}

TEST(QueryTextTest, truncates_to_120_characters) {
  const std::string long_query = "SELECT " + std::string(300, 'x');
  const std::string out = NormalizeQueryText(long_query);
  EXPECT_EQ(out.size(), 120u);
  EXPECT_EQ(out.substr(0, 8), "SELECT x");
  EXPECT_EQ(NormalizeQueryText("abcdef", 3), "abc");
  // A space at the cut is not left dangling.
  EXPECT_EQ(NormalizeQueryText("ab   cd", 3), "ab");
}

TEST(QueryTextTest, counts_characters_not_bytes_and_never_cuts_one) {
  // "é" is two bytes, "€" three, "𝄞" four.
  const std::string text = "SELECT 'é€𝄞é'";
  EXPECT_EQ(NormalizeQueryText(text, 9), "SELECT 'é");
  EXPECT_EQ(NormalizeQueryText(text, 10), "SELECT 'é€");
  EXPECT_EQ(NormalizeQueryText(text, 11), "SELECT 'é€𝄞");
}

TEST(QueryTextTest, replaces_invalid_utf8) {
  EXPECT_EQ(NormalizeQueryText(std::string("SELECT '\xff\xc3'")),
            "SELECT '?"
            "?'");
  EXPECT_EQ(NormalizeQueryText(std::string("a\xe2\x82")), "a??");  // truncated sequence
  EXPECT_EQ(NormalizeQueryText(std::string("\xc0\xaf")), "??");    // overlong
}

TEST(QueryTextCacheTest, evicts_the_least_recently_used) {
  QueryTextCache cache(2);
  cache.Put(1, "one");
  cache.Put(2, "two");
  ASSERT_TRUE(cache.Get(1));  // 1 is now the most recent
  cache.Put(3, "three");
  EXPECT_TRUE(cache.Contains(1));
  EXPECT_FALSE(cache.Contains(2));
  EXPECT_EQ(*cache.Get(3), "three");
  EXPECT_EQ(cache.size(), 2u);
}

TEST(QueryTextCacheTest, remembers_texts_that_could_not_be_found) {
  QueryTextCache cache(4);
  cache.Put(-7, "");
  EXPECT_TRUE(cache.Contains(-7));
  EXPECT_EQ(*cache.Get(-7), "");
  cache.Put(-7, "SELECT 1");
  EXPECT_EQ(*cache.Get(-7), "SELECT 1");
}

}  // namespace
}  // namespace tacho::collectors::postgres

#include "collectors/redis/replies.h"

#include <gtest/gtest.h>

#include <set>

#include "collectors/redis/resp.h"
#include "collectors/redis/test_util.h"

namespace tacho::collectors::redis {
namespace {

using testutil::Fixture;
using testutil::FixtureReply;

TEST(RedisRespTest, decodes_pipelined_replies) {
  auto replies = DecodeResp("+OK\r\n-NOPERM no\r\n:5\r\n$3\r\nabc\r\n*2\r\n$1\r\nx\r\n$-1\r\n");
  ASSERT_TRUE(replies.ok()) << replies.error();
  ASSERT_EQ(replies->size(), 5u);
  EXPECT_EQ((*replies)[0].type, Reply::Type::kStatus);
  EXPECT_TRUE((*replies)[1].is_error());
  EXPECT_EQ((*replies)[1].str, "NOPERM no");
  EXPECT_EQ((*replies)[2].integer, 5);
  EXPECT_EQ((*replies)[3].str, "abc");
  ASSERT_EQ((*replies)[4].elements.size(), 2u);
  EXPECT_EQ((*replies)[4].elements[1].type, Reply::Type::kNil);
  EXPECT_FALSE(DecodeResp("?bogus\r\n").ok());
}

TEST(RedisRepliesTest, error_code_is_the_first_word) {
  EXPECT_EQ(ErrorCode("WRONGPASS invalid username-password pair"), "WRONGPASS");
  EXPECT_EQ(ErrorCode("NOPERM"), "NOPERM");
}

TEST(RedisLatencyHistogramParserTest, parses_redis7_capture) {
  auto histograms = ParseLatencyHistogram(FixtureReply("latency_histogram_redis-7.0.15.resp"));
  ASSERT_EQ(histograms.size(), 3u);
  EXPECT_EQ(histograms[0].command, "set");
  EXPECT_EQ(histograms[0].calls, 5002u);
  EXPECT_EQ(histograms[0].buckets,
            (std::vector<std::pair<std::uint64_t, std::uint64_t>>{
                {1, 4897}, {2, 4965}, {4, 4992}, {8, 5000}, {16, 5001}, {66, 5002}}));
  EXPECT_EQ(histograms[1].command, "get");
  EXPECT_EQ(histograms[2].command, "info");
  EXPECT_EQ(histograms[2].buckets.back().second, histograms[2].calls);
}

TEST(RedisLatencyHistogramParserTest, tolerates_odd_shapes) {
  Reply reply = Reply::Array({
      Reply::String("GET"),
      Reply::Array({Reply::String("calls"), Reply::Integer(3), Reply::String("histogram_usec"),
                    Reply::Array({Reply::Integer(4), Reply::Integer(3), Reply::Integer(1),
                                  Reply::Integer(2)})}),
      Reply::String("broken"),
      Reply::Integer(1),  // not a map value
      Reply::String("nocalls"),
      Reply::Array({Reply::String("histogram_usec"), Reply::Array({})}),
  });
  auto histograms = ParseLatencyHistogram(reply);
  ASSERT_EQ(histograms.size(), 1u);
  EXPECT_EQ(histograms[0].command, "get") << "lower-cased";
  EXPECT_EQ(histograms[0].buckets,
            (std::vector<std::pair<std::uint64_t, std::uint64_t>>{{1, 2}, {4, 3}}))
      << "sorted by bound";
  EXPECT_TRUE(ParseLatencyHistogram(Reply::Error("ERR unknown subcommand")).empty());
}

TEST(RedisSlowlogParserTest, keeps_command_names_and_never_arguments) {
  const std::set<std::string> known = {"lrange", "client|setname", "config|get",
                                       "set",    "client",         "config"};
  auto is_command = [&](std::string_view n) { return known.count(std::string(n)) > 0; };
  auto entries = ParseSlowlog(FixtureReply("slowlog_get_redis-7.0.15.resp"), is_command);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].id, 20200);
  EXPECT_EQ(entries[0].timestamp, 1795370390);
  EXPECT_EQ(entries[0].duration_us, 198);
  EXPECT_EQ(entries[0].command, "lrange");
  EXPECT_EQ(entries[1].command, "client|setname");
  EXPECT_EQ(entries[2].command, "config|get");
  EXPECT_EQ(entries[3].command, "set") << "\"set session:token ...\": the key is not a subcommand";
  EXPECT_EQ(entries[3].id, 20197);
  const std::string raw = Fixture("slowlog_get_redis-7.0.15.resp");
  ASSERT_NE(raw.find("s3cr3t-value"), std::string::npos) << "the fixture holds a secret argument";
  for (const SlowlogEntry& e : entries) {
    EXPECT_EQ(e.command.find("s3cr3t"), std::string::npos);
    EXPECT_EQ(e.command.find("session"), std::string::npos);
    EXPECT_EQ(e.command.find("billing"), std::string::npos);
  }
}

TEST(RedisSlowlogParserTest, unknown_names_become_other_and_short_entries_parse) {
  auto none = [](std::string_view) { return false; };
  Reply redis3_entry =
      Reply::Array({Reply::Integer(7), Reply::Integer(1700000000), Reply::Integer(15000),
                    Reply::Array({Reply::String("MYSECRETCMD"), Reply::String("x")})});
  auto entries = ParseSlowlog(Reply::Array({redis3_entry, Reply::Integer(3)}), none);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].command, "other");
  EXPECT_EQ(entries[0].duration_us, 15000);
}

TEST(RedisConfigGetParserTest, pairs) {
  auto config = ParseConfigGet(Reply::Array({Reply::String("maxmemory"), Reply::String("0"),
                                             Reply::String("MaxClients"), Reply::String("10")}));
  EXPECT_EQ(config["maxmemory"], "0");
  EXPECT_EQ(config["maxclients"], "10");
  EXPECT_TRUE(ParseConfigGet(Reply::Error("ERR unknown command 'CONFIG'")).empty());
}

}  // namespace
}  // namespace tacho::collectors::redis

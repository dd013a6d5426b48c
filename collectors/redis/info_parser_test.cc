#include "collectors/redis/info_parser.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "collectors/redis/test_util.h"

namespace tacho::collectors::redis {
namespace {

using testutil::Fixture;

const CommandStat* FindCommand(const InfoReport& info, const std::string& name) {
  for (const CommandStat& c : info.commands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

TEST(RedisInfoParserTest, crlf_lines_and_sections) {
  const std::string text = Fixture("info_all_redis-7.0.15.txt");
  ASSERT_NE(text.find("\r\n"), std::string::npos) << "the fixture must keep the wire's CRLF";
  InfoReport info = ParseInfo(text);
  EXPECT_EQ(info.sections,
            (std::vector<std::string>{"Server", "Clients", "Memory", "Persistence", "Stats",
                                      "Replication", "CPU", "Modules", "Commandstats", "Errorstats",
                                      "Latencystats", "Cluster", "Keyspace"}));
  ASSERT_NE(info.Field("redis_version"), nullptr);
  EXPECT_EQ(*info.Field("redis_version"), "7.0.15");
  EXPECT_EQ(*info.Field("os"), "Linux 6.18.44-fc-v595 x86_64") << "values keep their spaces";
  EXPECT_EQ(*info.Field("config_file"), "") << "an empty value is still a field";
  EXPECT_EQ(info.Number("connected_clients"), 1);
  EXPECT_EQ(info.Number("maxclients"), 10000);
  EXPECT_EQ(info.Number("mem_fragmentation_ratio"), 5.39);
  EXPECT_EQ(info.Number("rdb_last_bgsave_status"), std::nullopt) << "\"ok\" is not a number";
  for (const auto& [key, value] : info.fields) {
    EXPECT_EQ(value.find('\r'), std::string::npos) << key;
  }
  EXPECT_TRUE(info.HasSection("Latencystats"));
  EXPECT_FALSE(info.HasSection("Sentinel"));
}

TEST(RedisInfoParserTest, commandstats_with_subcommands) {
  InfoReport info = ParseInfo(Fixture("info_all_redis-7.0.15.txt"));
  EXPECT_EQ(info.commands.size(), 20u);
  const CommandStat* config_get = FindCommand(info, "config|get");
  ASSERT_NE(config_get, nullptr);
  EXPECT_EQ(config_get->calls, 5);
  EXPECT_EQ(config_get->usec, 187);
  EXPECT_EQ(config_get->rejected_calls, 0);
  EXPECT_EQ(config_get->failed_calls, 0);
  const CommandStat* get = FindCommand(info, "get");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->calls, 5001);
  EXPECT_EQ(get->failed_calls, 1) << "GET on a list: WRONGTYPE";
  ASSERT_NE(FindCommand(info, "client|setname"), nullptr);
  EXPECT_EQ(info.Field("cmdstat_get"), nullptr) << "per-item lines are not plain fields";
}

TEST(RedisInfoParserTest, errorstats_latencystats_keyspace_and_replicas) {
  InfoReport info = ParseInfo(Fixture("info_all_redis-7.0.15.txt"));
  ASSERT_EQ(info.errors.size(), 2u);
  EXPECT_EQ(info.errors[0].code, "ERR");
  EXPECT_EQ(info.errors[0].count, 3);
  EXPECT_EQ(info.errors[1].code, "WRONGTYPE");
  EXPECT_EQ(info.errors[1].count, 1);

  auto get = std::find_if(info.latency_percentiles.begin(), info.latency_percentiles.end(),
                          [](const auto& p) { return p.command == "get"; });
  ASSERT_NE(get, info.latency_percentiles.end());
  EXPECT_EQ(get->percentiles,
            (std::vector<std::pair<double, double>>{{50, 0.001}, {99, 1.003}, {99.9, 2.007}}));

  ASSERT_EQ(info.keyspace.size(), 2u);
  EXPECT_EQ(info.keyspace[0].db, "db0");
  EXPECT_EQ(info.keyspace[0].keys, 6);
  EXPECT_EQ(info.keyspace[0].expires, 1);
  EXPECT_EQ(info.keyspace[0].avg_ttl_ms, 75447);
  EXPECT_EQ(info.keyspace[1].db, "db3");

  ASSERT_EQ(info.replicas.size(), 1u);
  EXPECT_EQ(info.replicas[0].ip, "127.0.0.1");
  EXPECT_EQ(info.replicas[0].port, "16392");
  EXPECT_EQ(info.replicas[0].state, "online");
  EXPECT_EQ(info.replicas[0].offset, 14);
  EXPECT_EQ(info.replicas[0].lag_seconds, 1);
  EXPECT_EQ(info.Field("slave0"), nullptr);
  EXPECT_NE(info.Field("slave_expires_tracked_keys"), nullptr) << "not a replica line: no digits";
}

TEST(RedisInfoParserTest, replica_of_redis7) {
  InfoReport info = ParseInfo(Fixture("info_all_redis-7.0.15_replica.txt"));
  EXPECT_EQ(*info.Field("role"), "slave");
  EXPECT_EQ(*info.Field("master_link_status"), "up");
  EXPECT_EQ(info.Number("slave_repl_offset"), 217);
  EXPECT_TRUE(info.replicas.empty());
}

TEST(RedisInfoParserTest, redis5_lacks_errorstats_latencystats_and_extended_cmdstats) {
  InfoReport info = ParseInfo(Fixture("info_all_redis-5.0.14_crafted.txt"));
  EXPECT_FALSE(info.HasSection("Errorstats"));
  EXPECT_FALSE(info.HasSection("Latencystats"));
  EXPECT_TRUE(info.errors.empty());
  EXPECT_TRUE(info.latency_percentiles.empty());
  const CommandStat* config = FindCommand(info, "config");
  ASSERT_NE(config, nullptr) << "Redis 5 has no subcommand stats";
  EXPECT_EQ(config->calls, 10);
  EXPECT_FALSE(config->rejected_calls.has_value());
  EXPECT_FALSE(config->failed_calls.has_value());
  EXPECT_EQ(info.Field("maxclients"), nullptr);
  EXPECT_EQ(info.Number("maxmemory"), 268435456);
  ASSERT_EQ(info.replicas.size(), 2u);
  EXPECT_EQ(info.replicas[1].state, "wait_bgsave");
}

TEST(RedisInfoParserTest, redis6_replica_with_link_down) {
  InfoReport info = ParseInfo(Fixture("info_all_redis-6.0.16_replica_crafted.txt"));
  EXPECT_EQ(*info.Field("master_link_status"), "down");
  EXPECT_EQ(info.Number("master_link_down_since_seconds"), 30);
  EXPECT_TRUE(info.keyspace.empty()) << "an empty # Keyspace section";
  EXPECT_EQ(info.commands.size(), 3u);
}

TEST(RedisInfoParserTest, bare_lf_missing_headers_and_garbage_are_tolerated) {
  InfoReport info = ParseInfo(
      "connected_clients:3\n"
      "no colon here\n"
      ":no key\n"
      "#\n"
      "cmdstat_get:calls=x,usec=1\n"           // calls not numeric: skipped
      "cmdstat_set:usec=5,calls=2,future=9\n"  // order and unknown fields don't matter
      "errorstat_ERR:count=oops\n"
      "db0:keys=2,expires=0\n"  // no avg_ttl
      "db1:garbage\n"
      "slave0:port=1\n"  // no ip: skipped
      "brand_new_field_2031:42\r\n");
  EXPECT_EQ(info.Number("connected_clients"), 3);
  EXPECT_EQ(info.Number("brand_new_field_2031"), 42);
  ASSERT_EQ(info.commands.size(), 1u);
  EXPECT_EQ(info.commands[0].name, "set");
  EXPECT_EQ(info.commands[0].calls, 2);
  EXPECT_EQ(info.commands[0].usec, 5);
  EXPECT_TRUE(info.errors.empty());
  ASSERT_EQ(info.keyspace.size(), 1u);
  EXPECT_FALSE(info.keyspace[0].avg_ttl_ms.has_value());
  EXPECT_TRUE(info.replicas.empty());
  EXPECT_TRUE(info.sections.empty());
}

TEST(RedisInfoParserTest, empty_reply) {
  InfoReport info = ParseInfo("");
  EXPECT_TRUE(info.fields.empty());
  EXPECT_TRUE(info.commands.empty());
}

TEST(RedisInfoParserTest, numbers_as_redis_prints_them) {
  EXPECT_EQ(ParseNumber("12"), 12);
  EXPECT_EQ(ParseNumber("-1"), -1);
  EXPECT_EQ(ParseNumber("0.00"), 0);
  EXPECT_EQ(ParseNumber("5.39"), 5.39);
  EXPECT_EQ(ParseNumber("+3"), 3);
  EXPECT_EQ(ParseNumber(""), std::nullopt);
  EXPECT_EQ(ParseNumber("ok"), std::nullopt);
  EXPECT_EQ(ParseNumber("1.44M"), std::nullopt);
  EXPECT_EQ(ParseNumber("51.02%"), std::nullopt);
  EXPECT_EQ(ParseNumber("inf"), std::nullopt);
}

}  // namespace
}  // namespace tacho::collectors::redis

#include "collectors/redis/info_metrics.h"

#include <gtest/gtest.h>

#include "collectors/redis/test_util.h"

namespace tacho::collectors::redis {
namespace {

using testutil::Fixture;
using testutil::Samples;

Samples Write(const std::string& fixture, InfoMetricsOptions options = {},
              InfoMetricsResult* result = nullptr) {
  agent::MetricSink sink;
  InfoReport info = ParseInfo(Fixture(fixture));
  InfoMetricsResult r = WriteInfoMetrics(info, options, sink);
  EXPECT_TRUE(sink.conflicts().empty());
  if (result != nullptr) *result = r;
  return Samples(sink);
}

TEST(RedisInfoMetricsTest, redis7_master_under_redis_exporter_names) {
  Samples s = Write("info_all_redis-7.0.15.txt");
  EXPECT_EQ(s.At("redis_connected_clients"), 1);
  EXPECT_EQ(s.At("redis_blocked_clients"), 0);
  EXPECT_EQ(s.At("redis_config_maxclients"), 10000) << "from INFO when CONFIG gave nothing";
  EXPECT_EQ(s.At("redis_rejected_connections_total"), 0);
  EXPECT_EQ(s.At("redis_memory_used_bytes"), 1513920);
  EXPECT_EQ(s.At("redis_memory_used_rss_bytes"), 7950336);
  EXPECT_EQ(s.At("redis_memory_used_peak_bytes"), 2967184);
  EXPECT_EQ(s.At("redis_memory_max_bytes"), 0);
  EXPECT_EQ(s.At("redis_mem_fragmentation_ratio"), 5.39);
  EXPECT_EQ(s.At("redis_keyspace_hits_total"), 5001);
  EXPECT_EQ(s.At("redis_keyspace_misses_total"), 0);
  EXPECT_EQ(s.At("redis_evicted_keys_total"), 0);
  EXPECT_EQ(s.At("redis_expired_keys_total"), 0);
  EXPECT_EQ(s.At("redis_commands_processed_total"), 20036);
  EXPECT_EQ(s.At("redis_net_input_bytes_total"), 791275);
  EXPECT_EQ(s.At("redis_net_output_bytes_total"), 153464);
  EXPECT_EQ(s.At("redis_uptime_in_seconds"), 28);
  EXPECT_EQ(s.At("redis_start_time_seconds"), 1795370241 - 28) << "server_time_usec - uptime";
  EXPECT_EQ(s.At("redis_rdb_last_save_timestamp_seconds"), 1795370213);
  EXPECT_EQ(s.At("redis_rdb_last_bgsave_status"), 1);
  EXPECT_EQ(s.At("redis_aof_last_bgrewrite_status"), 1);
  EXPECT_DOUBLE_EQ(s.At("redis_latest_fork_seconds"), 615e-6);
  EXPECT_EQ(s.At("redis_connected_slaves"), 1);
  EXPECT_EQ(s.At("redis_master_repl_offset"), 217);
  EXPECT_DOUBLE_EQ(s.At("redis_cpu_sys_seconds_total"), 0.160135);
  EXPECT_EQ(s.At("redis_error_replies_total"), 4);

  EXPECT_EQ(s.At("redis_instance_info{role=master,redis_version=7.0.15,redis_build_id="
                 "ae4d7c971a948f0,redis_mode=standalone,os=Linux 6.18.44-fc-v595 x86_64,"
                 "maxmemory_policy=noeviction,tcp_port=16391,run_id="
                 "c46afb2df6481d8b3f06da8160cc69863eeba701,process_id=389}"),
            1);
}

TEST(RedisInfoMetricsTest, per_command_errors_and_keyspace_series) {
  Samples s = Write("info_all_redis-7.0.15.txt");
  EXPECT_EQ(s.At("redis_commands_total{cmd=config|get}"), 5);
  EXPECT_DOUBLE_EQ(s.At("redis_commands_duration_seconds_total{cmd=config|get}"), 187e-6);
  EXPECT_EQ(s.At("redis_commands_rejected_calls_total{cmd=get}"), 0);
  EXPECT_EQ(s.At("redis_commands_failed_calls_total{cmd=get}"), 1);
  EXPECT_EQ(s.At("redis_commands_failed_calls_total{cmd=auth}"), 1);
  EXPECT_EQ(s.At("redis_errors_total{err=ERR}"), 3);
  EXPECT_EQ(s.At("redis_errors_total{err=WRONGTYPE}"), 1);
  EXPECT_EQ(s.At("redis_db_keys{db=db0}"), 6);
  EXPECT_EQ(s.At("redis_db_keys_expiring{db=db0}"), 1);
  EXPECT_DOUBLE_EQ(s.At("redis_db_avg_ttl_seconds{db=db3}"), 499.897);
  EXPECT_EQ(s.At("redis_db_keys{db=db1}"), 0) << "empty databases are zero-filled";
  EXPECT_EQ(s.At("redis_db_keys{db=db15}"), 0);
  EXPECT_FALSE(s.Has("redis_db_keys{db=db16}"));
  EXPECT_EQ(s.At("redis_connected_slave_lag_seconds{slave_ip=127.0.0.1,slave_port=16392,"
                 "slave_state=online}"),
            1);
  EXPECT_EQ(s.At("redis_connected_slave_offset_bytes{slave_ip=127.0.0.1,slave_port=16392,"
                 "slave_state=online}"),
            14);
  EXPECT_EQ(s.At("redis_connected_slave_lag_bytes{slave_ip=127.0.0.1,slave_port=16392,"
                 "slave_state=online}"),
            217 - 14);
}

TEST(RedisInfoMetricsTest, config_values_win_over_info_and_databases_bound_the_zero_fill) {
  InfoMetricsOptions options;
  options.config_maxmemory = 1048576;
  options.config_maxclients = 64;
  options.databases = 4;
  Samples s = Write("info_all_redis-7.0.15.txt", options);
  EXPECT_EQ(s.At("redis_config_maxmemory"), 1048576);
  EXPECT_EQ(s.At("redis_config_maxclients"), 64);
  EXPECT_EQ(s.At("redis_memory_max_bytes"), 0)
      << "redis_memory_max_bytes is INFO's, as in redis_exporter";
  EXPECT_TRUE(s.Has("redis_db_keys{db=db3}"));
  EXPECT_FALSE(s.Has("redis_db_keys{db=db4}"));
}

TEST(RedisInfoMetricsTest, redis5_without_maxclients_or_server_time) {
  InfoMetricsOptions options;
  options.now_unix_seconds = 1700000000;
  Samples s = Write("info_all_redis-5.0.14_crafted.txt", options);
  EXPECT_FALSE(s.Has("redis_config_maxclients")) << "Redis 5 has it only in CONFIG";
  EXPECT_EQ(s.At("redis_config_maxmemory"), 268435456) << "from INFO";
  EXPECT_EQ(s.At("redis_rdb_last_bgsave_status"), 0) << "\"err\"";
  EXPECT_EQ(s.At("redis_start_time_seconds"), 1700000000 - 864000);
  EXPECT_EQ(s.At("redis_commands_total{cmd=config}"), 10);
  EXPECT_FALSE(s.Has("redis_commands_rejected_calls_total{cmd=config}"));
  EXPECT_FALSE(s.Has("redis_error_replies_total"));
  EXPECT_EQ(s.At("redis_evicted_keys_total"), 77);
  EXPECT_EQ(s.At("redis_aof_current_size_bytes"), 1048576);
  EXPECT_EQ(s.At("redis_connected_slave_lag_bytes{slave_ip=10.0.0.8,slave_port=6380,"
                 "slave_state=wait_bgsave}"),
            98765);
  EXPECT_FALSE(s.Has("redis_master_link_up{master_host=,master_port=}")) << "a master";
}

TEST(RedisInfoMetricsTest, replica_link_state_and_offsets) {
  Samples s = Write("info_all_redis-6.0.16_replica_crafted.txt");
  const std::string master = "master_host=10.0.0.5,master_port=6379";
  EXPECT_EQ(s.At("redis_master_link_up{" + master + "}"), 0);
  EXPECT_EQ(s.At("redis_master_last_io_seconds_ago{" + master + "}"), -1);
  EXPECT_EQ(s.At("redis_master_sync_in_progress{" + master + "}"), 0);
  EXPECT_EQ(s.At("redis_master_link_down_since_seconds{" + master + "}"), 30);
  EXPECT_EQ(s.At("redis_slave_repl_offset{" + master + "}"), 5000);
  EXPECT_EQ(s.At("redis_slave_info{" + master + ",read_only=1}"), 1);
  EXPECT_EQ(s.At("redis_aof_last_bgrewrite_status"), 0);
  EXPECT_EQ(s.At("redis_db_keys{db=db0}"), 0);

  Samples up = Write("info_all_redis-7.0.15_replica.txt");
  EXPECT_EQ(up.At("redis_master_link_up{master_host=127.0.0.1,master_port=16391}"), 1);
}

TEST(RedisInfoMetricsTest, valkey_flavour_and_version_label) {
  agent::MetricSink sink;
  InfoReport info = ParseInfo(Fixture("info_all_valkey-8.0.1_crafted.txt"));
  EXPECT_EQ(Flavour(info), "valkey");
  EXPECT_EQ(Flavour(ParseInfo(Fixture("info_all_redis-7.0.15.txt"))), "redis");
  WriteInfoMetrics(info, {}, sink);
  Samples s(sink);
  bool found = false;
  for (const auto& [key, value] : s.values()) {
    if (key.rfind("redis_instance_info{", 0) == 0) {
      found = true;
      EXPECT_NE(key.find("valkey_version=8.0.1"), std::string::npos) << key;
      EXPECT_NE(key.find("redis_version=7.2.4"), std::string::npos) << key;
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(s.At("redis_errors_total{err=NOPERM}"), 1);
}

TEST(RedisInfoMetricsTest, commands_max_keeps_the_busiest_and_counts_the_rest) {
  InfoMetricsOptions options;
  options.commands_max = 3;
  InfoMetricsResult result;
  Samples s = Write("info_all_redis-7.0.15.txt", options, &result);
  EXPECT_EQ(result.commands_dropped, 17u);
  ASSERT_EQ(result.commands_kept.size(), 3u);
  EXPECT_TRUE(s.Has("redis_commands_total{cmd=set}"));
  EXPECT_TRUE(s.Has("redis_commands_total{cmd=lpush}"));
  EXPECT_TRUE(s.Has("redis_commands_total{cmd=get}"));
  EXPECT_FALSE(s.Has("redis_commands_total{cmd=incr}")) << "5000 calls, 4th";
}

TEST(RedisInfoMetricsTest, counters_end_in_total_and_gauges_do_not) {
  for (const char* fixture :
       {"info_all_redis-7.0.15.txt", "info_all_redis-7.0.15_replica.txt",
        "info_all_redis-5.0.14_crafted.txt", "info_all_redis-6.0.16_replica_crafted.txt",
        "info_all_valkey-8.0.1_crafted.txt"}) {
    Samples s = Write(fixture);
    for (const auto& family : s.families()) {
      const bool total =
          family.name.size() > 6 && family.name.compare(family.name.size() - 6, 6, "_total") == 0;
      EXPECT_EQ(total, family.type == prometheus::MetricType::Counter)
          << fixture << ": " << family.name;
      EXPECT_FALSE(family.help.empty()) << family.name;
      EXPECT_EQ(family.name.rfind("redis_", 0), 0u) << family.name;
      // promtool check metrics rejects abbreviated units (redis_exporter's *_duration_sec).
      const std::string& n = family.name;
      EXPECT_FALSE(n.size() > 4 && n.compare(n.size() - 4, 4, "_sec") == 0) << n;
      EXPECT_EQ(n.find("_sec_"), std::string::npos) << n;
    }
  }
}

TEST(RedisClientsPoolTest, connected_clients_in_use_of_maxclients_from_info) {
  const auto pool = ClientsPool(ParseInfo(Fixture("info_all_redis-7.0.15.txt")), {});
  ASSERT_TRUE(pool.has_value());
  EXPECT_EQ(pool->kind, "redis");
  EXPECT_EQ(pool->pool, "clients");
  EXPECT_EQ(pool->size, 10000.0);
  EXPECT_EQ(pool->in_use, 1.0);
  EXPECT_EQ(pool->blocked, 0.0);
  EXPECT_DOUBLE_EQ(*agent::PoolUtilization(*pool), 1.0 / 10000);
}

TEST(RedisClientsPoolTest, config_maxclients_wins_over_info) {
  InfoMetricsOptions options;
  options.config_maxclients = 64;
  const auto pool = ClientsPool(ParseInfo(Fixture("info_all_redis-7.0.15.txt")), options);
  ASSERT_TRUE(pool.has_value());
  EXPECT_EQ(pool->size, 64.0);
}

TEST(RedisClientsPoolTest, maxclients_unknown_leaves_the_ratio_out) {
  // Redis 6 has no maxclients in INFO; with CONFIG blocked the limit is unknown.
  const auto pool = ClientsPool(ParseInfo("# Clients\r\nconnected_clients:7\r\n"), {});
  ASSERT_TRUE(pool.has_value());
  EXPECT_EQ(pool->in_use, 7.0);
  EXPECT_FALSE(pool->size.has_value());
  EXPECT_FALSE(agent::PoolUtilization(*pool).has_value());
}

TEST(RedisClientsPoolTest, no_pool_without_connected_clients) {
  EXPECT_FALSE(ClientsPool(ParseInfo("# Server\r\nredis_version:7.0.15\r\n"), {}).has_value());
}

}  // namespace
}  // namespace tacho::collectors::redis

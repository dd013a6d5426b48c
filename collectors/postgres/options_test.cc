#include <gtest/gtest.h>

#include "agent/collector_test_util.h"
#include "collectors/postgres/postgres_collector.h"
#include "collectors/postgres/postgres_internal.h"

namespace tacho::collectors::postgres {
namespace {

Expected<config::Config, config::Error> Load(const std::string& body) {
  static const agent::CollectorKind kind = PostgresCollectorKind();
  return agent::testutil::LoadCollectorConfig(kind, "db", body);
}

Expected<Options, config::Error> Parse(const std::string& body) {
  auto config = Load(body);
  if (!config.ok()) return config.error();
  return ParseOptions(
      config->collectors.at(0).section,
      agent::Environment{"db", std::chrono::seconds(15), std::chrono::seconds(12), "/tmp"});
}

TEST(PostgresOptionsTest, defaults) {
  auto o = Parse("dsn = \"host=127.0.0.1 user=tacho dbname=postgres\"\n");
  ASSERT_TRUE(o.ok()) << o.error().ToString();
  EXPECT_EQ(o->databases, std::vector<std::string>{"*"});
  EXPECT_EQ(o->max_connections, 3);
  EXPECT_EQ(o->statements_top_k, 100u);
  EXPECT_TRUE(o->query_text);
  EXPECT_EQ(o->tables_top_k, 256u);
  EXPECT_EQ(o->indexes_top_k, 512u);
  EXPECT_EQ(o->slow_interval, std::chrono::minutes(5));
  EXPECT_EQ(o->timeout, std::chrono::seconds(12));
}

TEST(PostgresOptionsTest, dotted_keys_and_subtables) {
  auto o = Parse(
      "dsn = \"user=tacho\"\ntables.top_k = 20\n"
      "[collectors.postgres.statements]\nquery_text = \"off\"\ntop_k = 7\n");
  ASSERT_TRUE(o.ok()) << o.error().ToString();
  EXPECT_EQ(o->tables_top_k, 20u);
  EXPECT_EQ(o->statements_top_k, 7u);
  EXPECT_FALSE(o->query_text);
}

TEST(PostgresOptionsTest, invalid_dsn_is_reported_at_its_position) {
  auto o = Parse("dsn = \"host=h password=hunter2 nonsense=1\"\n");
  ASSERT_FALSE(o.ok());
  const std::string message = o.error().ToString();
  EXPECT_NE(message.find("test.toml:3"), std::string::npos) << message;
  EXPECT_NE(message.find("nonsense"), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST(PostgresOptionsTest, query_text_accepts_only_known_values) {
  EXPECT_FALSE(Parse("dsn = \"user=x\"\nstatements.query_text = \"labels\"\n").ok());
  EXPECT_FALSE(Parse("dsn = \"user=x\"\nmax_connections = 0\n").ok());
  EXPECT_FALSE(Parse("").ok());  // dsn is required
}

TEST(DatabaseSelectionTest, star_expands_to_discovered_minus_excluded) {
  Options o;
  o.databases = {"*"};
  o.exclude = {"tmp_*", "rdsadmin"};
  auto selected =
      SelectDatabases({"app", "postgres", "tmp_1", "rdsadmin", "billing"}, o, "postgres");
  EXPECT_EQ(selected, (std::vector<std::string>{"postgres", "app", "billing"}));
}

TEST(DatabaseSelectionTest, explicit_names_must_exist) {
  Options o;
  o.databases = {"billing", "missing"};
  EXPECT_EQ(SelectDatabases({"app", "billing"}, o, "postgres"),
            std::vector<std::string>{"billing"});
  o.databases = {};
  EXPECT_TRUE(SelectDatabases({"app"}, o, "postgres").empty());
}

TEST(DatabaseSelectionTest, cap_leaves_the_main_connection_and_skips_the_rest) {
  const std::vector<std::string> selected = {"postgres", "a", "b", "c"};
  DatabasePlan plan = PlanDatabases(selected, "postgres", 3);
  EXPECT_TRUE(plan.main_db);
  EXPECT_EQ(plan.extra, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(plan.skipped, std::vector<std::string>{"c"});
  plan = PlanDatabases(selected, "postgres", 1);
  EXPECT_TRUE(plan.main_db);
  EXPECT_TRUE(plan.extra.empty());
  EXPECT_EQ(plan.skipped.size(), 3u);
}

TEST(DatabaseSelectionTest, glob_patterns) {
  EXPECT_TRUE(GlobMatch("tmp_*", "tmp_1"));
  EXPECT_TRUE(GlobMatch("db?", "db1"));
  EXPECT_FALSE(GlobMatch("db?", "db12"));
  EXPECT_TRUE(GlobMatch("[ab]*", "billing"));
}

TEST(PostgresKindTest, configure_does_not_connect) {
  auto config = Load("dsn = \"host=127.0.0.1 port=1 user=nobody connect_timeout=2\"\n");
  ASSERT_TRUE(config.ok());
  auto collector = PostgresCollectorKind().create(config->collectors.at(0).section,
                                                  agent::Environment{"db", {}, {}, "/tmp"});
  EXPECT_TRUE(collector.ok());
}

}  // namespace
}  // namespace tacho::collectors::postgres

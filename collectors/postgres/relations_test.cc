#include "collectors/postgres/relations.h"

#include <gtest/gtest.h>

namespace tacho::collectors::postgres {
namespace {

TEST(RelationQueriesTest, skip_relations_under_access_exclusive_lock) {
  ServerFacts facts;
  for (const std::string& sql : {TablesQuery(facts, 256), IndexesQuery(facts, 512)}) {
    EXPECT_NE(sql.find("l.mode = 'AccessExclusiveLock' AND l.granted"), std::string::npos) << sql;
    EXPECT_NE(sql.find("NOT EXISTS (SELECT 1 FROM locked"), std::string::npos) << sql;
  }
}

TEST(RelationQueriesTest, cap_rows_in_sql_and_count_the_rest) {
  ServerFacts facts;
  const std::string tables = TablesQuery(facts, 256);
  EXPECT_NE(tables.find("LIMIT 256"), std::string::npos);
  EXPECT_NE(tables.find("count(*) OVER () AS total"), std::string::npos);
  EXPECT_NE(IndexesQuery(facts, 7).find("ORDER BY c.relpages DESC, s.indexrelid LIMIT 7"),
            std::string::npos);
}

TEST(RelationQueriesTest, sizes_come_from_relpages_not_size_functions) {
  ServerFacts facts;
  facts.block_size = 16384;
  for (const std::string& sql : {TablesQuery(facts, 10), IndexesQuery(facts, 10)}) {
    EXPECT_EQ(sql.find("pg_relation_size"), std::string::npos) << sql;
    EXPECT_EQ(sql.find("pg_table_size"), std::string::npos) << sql;
    EXPECT_EQ(sql.find("pg_total_relation_size"), std::string::npos) << sql;
    EXPECT_NE(sql.find("* 16384"), std::string::npos) << sql;
  }
}

}  // namespace
}  // namespace tacho::collectors::postgres

#include "collectors/postgres/conninfo.h"

#include <gtest/gtest.h>

namespace tacho::collectors::postgres {
namespace {

std::string Value(const ConnParams& p, const std::string& key) {
  for (const auto& [k, v] : p) {
    if (k == key) return v;
  }
  return "<unset>";
}

ConnParams Parse(const std::string& dsn) {
  auto p = ParseDsn(dsn);
  EXPECT_TRUE(p.ok()) << p.error();
  return p.ok() ? p.value() : ConnParams{};
}

TEST(ConnInfoTest, parses_keyword_strings_and_uris) {
  ConnParams kv = Parse("host=db1 port=5433 user=tacho dbname='my db'");
  EXPECT_EQ(Value(kv, "host"), "db1");
  EXPECT_EQ(Value(kv, "dbname"), "my db");
  ConnParams uri = Parse("postgresql://tacho@db1:5433/app?sslmode=require");
  EXPECT_EQ(Value(uri, "host"), "db1");
  EXPECT_EQ(Value(uri, "port"), "5433");
  EXPECT_EQ(Value(uri, "dbname"), "app");
  EXPECT_EQ(Value(uri, "sslmode"), "require");
  EXPECT_EQ(Value(uri, "password"), "<unset>");
}

TEST(ConnInfoTest, invalid_dsn_error_does_not_echo_values) {
  auto p = ParseDsn("host=db1 password=hunter2 bogus=1");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("bogus"), std::string::npos) << p.error();
  EXPECT_EQ(p.error().find("hunter2"), std::string::npos) << p.error();
}

TEST(ConnInfoTest, malformed_uri_error_redacts_its_password) {
  // libpq quotes the whole URI in this error.
  auto p = ParseDsn("postgresql://tacho:s3cret@[::1:5432/app");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error(),
            "end of string reached when looking for matching \"]\" in IPv6 host address in URI: "
            "\"postgresql://tacho:<redacted>@[::1:5432/app\"");
}

TEST(ConnInfoTest, adds_session_settings) {
  SessionSettings s;
  s.connect_timeout_seconds = 4;
  s.statement_timeout_ms = 8000;
  s.lock_timeout_ms = 1000;
  const std::string ci = BuildConnInfo(Parse("host=db1 user=tacho"), s);
  EXPECT_NE(ci.find("application_name='tacho'"), std::string::npos) << ci;
  EXPECT_NE(ci.find("client_encoding='UTF8'"), std::string::npos) << ci;
  EXPECT_NE(ci.find("connect_timeout='4'"), std::string::npos) << ci;
  EXPECT_NE(ci.find("options='-c statement_timeout=8000 -c lock_timeout=1000'"), std::string::npos)
      << ci;
  // What libpq makes of it.
  ConnParams back = Parse(ci);
  EXPECT_EQ(Value(back, "host"), "db1");
  EXPECT_EQ(Value(back, "options"), "-c statement_timeout=8000 -c lock_timeout=1000");
}

TEST(ConnInfoTest, keeps_what_the_user_set_explicitly) {
  SessionSettings s;
  s.statement_timeout_ms = 8000;
  s.lock_timeout_ms = 1000;
  const std::string ci = BuildConnInfo(Parse("host=db1 application_name=monitor connect_timeout=9 "
                                             "client_encoding=LATIN1 "
                                             "options='-c statement_timeout=2s -c search_path=x'"),
                                       s);
  ConnParams back = Parse(ci);
  EXPECT_EQ(Value(back, "application_name"), "monitor");
  EXPECT_EQ(Value(back, "client_encoding"), "LATIN1");
  EXPECT_EQ(Value(back, "connect_timeout"), "9");
  EXPECT_EQ(Value(back, "options"),
            "-c statement_timeout=2s -c search_path=x -c lock_timeout=1000");
}

TEST(ConnInfoTest, password_and_dbname_override_the_dsn) {
  SessionSettings s;
  s.password = "it's \\ secret";
  s.dbname = "other";
  ConnParams back = Parse(BuildConnInfo(Parse("postgresql://u:old@h/app"), s));
  EXPECT_EQ(Value(back, "password"), "it's \\ secret");
  EXPECT_EQ(Value(back, "dbname"), "other");
}

TEST(ConnInfoTest, quoting_escapes_quotes_and_backslashes) {
  EXPECT_EQ(QuoteConnValue("a b"), "'a b'");
  EXPECT_EQ(QuoteConnValue("it's"), "'it\\'s'");
  EXPECT_EQ(QuoteConnValue("a\\b"), "'a\\\\b'");
  EXPECT_EQ(QuoteConnValue(""), "''");
}

TEST(ConnInfoTest, describe_target_never_shows_the_password) {
  ConnParams p = Parse("host=db1 port=6432 user=u password=hunter2 dbname=app");
  EXPECT_EQ(DescribeTarget(p), "db1:6432/app");
  EXPECT_EQ(DescribeTarget(p, "other"), "db1:6432/other");
  EXPECT_EQ(DescribeTarget(Parse("user=bob")), "localhost:5432/bob");
  EXPECT_EQ(DsnDatabase(Parse("user=bob")), "bob");
}

}  // namespace
}  // namespace tacho::collectors::postgres

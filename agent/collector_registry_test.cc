#include "agent/collector_registry.h"

#include <gtest/gtest.h>

namespace tacho::agent {
namespace {

CollectorKind Kind(std::string name, config::Schema schema = {},
                   std::vector<config::BoundKey> bound_keys = {}) {
  return CollectorKind{.name = std::move(name),
                       .description = "test",
                       .schema = std::move(schema),
                       .bound_keys = std::move(bound_keys),
                       .up_metric = "",
                       .up_help = "",
                       .upstream_kinds = {},
                       .chain_pool = "",
                       .create = nullptr};
}

TEST(CollectorRegistryTest, finds_registered_kinds_sorted) {
  CollectorRegistry registry;
  registry.Register(Kind("redis"));
  registry.Register(Kind("postgres"));
  ASSERT_NE(registry.Find("redis"), nullptr);
  EXPECT_EQ(registry.Find("mysql"), nullptr);
  auto kinds = registry.Kinds();
  ASSERT_EQ(kinds.size(), 2u);
  EXPECT_EQ(kinds[0]->name, "postgres");
  EXPECT_NE(registry.Schemas().find("redis"), nullptr);
  EXPECT_EQ(registry.Schemas().kinds(), (std::vector<std::string>{"postgres", "redis"}));
}

TEST(CollectorRegistryTest, rejects_duplicates_and_redeclared_common_keys) {
  CollectorRegistry registry;
  registry.Register(Kind("redis"));
  EXPECT_THROW(registry.Register(Kind("redis")), std::logic_error);
  EXPECT_THROW(
      registry.Register(Kind("x", {{.name = "interval", .type = config::Type::kDuration}})),
      std::logic_error);
}

struct RedisLikeOptions {
  std::string address;
  bool slowlog = true;
};

const config::Schema& RedisLikeSchema() {
  static const config::Schema kSchema = {
      {.name = "address", .type = config::Type::kString, .default_value = "\"127.0.0.1:6379\""},
      {.name = "slowlog", .type = config::Type::kBool, .default_value = "true"},
  };
  return kSchema;
}

TEST(CollectorRegistryTest, accepts_a_binding_of_exactly_the_schema_keys) {
  const config::Binding<RedisLikeOptions> binding = {
      config::Bind("address", &RedisLikeOptions::address),
      config::Bind("slowlog", &RedisLikeOptions::slowlog)};
  CollectorRegistry registry;
  registry.Register(Kind("redis", RedisLikeSchema(), binding.Keys()));
  EXPECT_NE(registry.Find("redis"), nullptr);
}

TEST(CollectorRegistryTest, rejects_a_binding_with_a_misspelled_key) {
  const config::Binding<RedisLikeOptions> binding = {
      config::Bind("adress", &RedisLikeOptions::address),
      config::Bind("slowlog", &RedisLikeOptions::slowlog)};
  CollectorRegistry registry;
  try {
    registry.Register(Kind("redis", RedisLikeSchema(), binding.Keys()));
    FAIL() << "Register accepted a binding of an undeclared key";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(),
                 "collector kind 'redis' binds key 'adress', which its schema does not declare; "
                 "did you mean 'address'?");
  }
  EXPECT_EQ(registry.Find("redis"), nullptr);
}

TEST(CollectorRegistryTest, rejects_a_schema_key_the_binding_does_not_read) {
  const config::Binding<RedisLikeOptions> binding = {
      config::Bind("address", &RedisLikeOptions::address)};
  CollectorRegistry registry;
  EXPECT_THROW(registry.Register(Kind("redis", RedisLikeSchema(), binding.Keys())),
               std::logic_error);
}

}  // namespace
}  // namespace tacho::agent

#include "agent/collector_registry.h"

#include <gtest/gtest.h>

namespace tacho::agent {
namespace {

CollectorKind Kind(std::string name, config::Schema schema = {}) {
  return CollectorKind{.name = std::move(name),
                       .description = "test",
                       .schema = std::move(schema),
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
  EXPECT_THROW(registry.Register(Kind("x", {{.name = "interval", .type = config::Type::kDuration}})),
               std::logic_error);
}

}  // namespace
}  // namespace tacho::agent

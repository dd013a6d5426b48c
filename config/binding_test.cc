#include "config/binding.h"

#include <gtest/gtest.h>

namespace tacho::config {
namespace {

const Schema& TestSchema() {
  static const Schema kSchema = {
      {.name = "address", .type = Type::kString, .default_value = "\"127.0.0.1:6379\""},
      {.name = "username", .type = Type::kString},
      {.name = "commands.top_k", .type = Type::kInt, .default_value = "20"},
      {.name = "slowlog", .type = Type::kBool, .default_value = "true"},
      {.name = "connect_timeout", .type = Type::kDuration, .default_value = "\"5s\""},
      {.name = "pools", .type = Type::kStringList, .default_value = "[\"*\"]"},
      {.name = "groups",
       .type = Type::kTableList,
       .fields = {{.name = "name", .type = Type::kString, .required = true},
                  {.name = "self", .type = Type::kBool, .default_value = "false"}}},
  };
  return kSchema;
}

struct Group {
  std::string name;
  bool self = true;
};

struct Nested {
  std::string address;
};

struct Options {
  Nested nested;
  std::string username = "unset";
  std::size_t top_k = 0;
  bool slowlog = false;
  Duration connect_timeout{};
  std::vector<std::string> pools;
};

const Binding<Group>& GroupBinding() {
  static const Binding<Group> kBinding = {Bind("name", &Group::name), Bind("self", &Group::self)};
  return kBinding;
}

const Binding<Options>& OptionsBinding() {
  static const Binding<Options> kBinding = {
      Bind("address", &Options::nested, &Nested::address),
      Bind("username", &Options::username),
      Bind("commands.top_k", &Options::top_k),
      Bind("slowlog", &Options::slowlog),
      Bind("connect_timeout", &Options::connect_timeout),
      Bind("pools", &Options::pools),
      ReadByCode("groups", GroupBinding().Keys()),
  };
  return kBinding;
}

Section Load(std::string_view body) {
  KindSchemas kinds{
      .find = [](std::string_view kind) -> const Schema* {
        return kind == "fake" ? &TestSchema() : nullptr;
      },
      .kinds = [] { return std::vector<std::string>{"fake"}; },
  };
  auto config =
      LoadString("[[collectors.fake]]\nname = \"a\"\n" + std::string(body), "t.toml", kinds);
  EXPECT_TRUE(config) << config.error().ToString();
  return config->collectors.at(0).section;
}

TEST(ConfigBindingTest, fill_copies_set_and_default_values_into_typed_members) {
  Options options;
  const Section section = Load(
      "commands.top_k = 7\nslowlog = false\n[[collectors.fake.groups]]\n"
      "name = \"pg\"\n");
  OptionsBinding().Fill(section, options);
  EXPECT_EQ(options.nested.address, "127.0.0.1:6379");
  EXPECT_EQ(options.top_k, 7u);
  EXPECT_FALSE(options.slowlog);
  EXPECT_EQ(options.connect_timeout, std::chrono::seconds(5));
  EXPECT_EQ(options.pools, std::vector<std::string>{"*"});
  Group group;
  GroupBinding().Fill(section.GetTableList("groups").at(0), group);
  EXPECT_EQ(group.name, "pg");
  EXPECT_FALSE(group.self);
}

TEST(ConfigBindingTest, fill_leaves_unset_optional_keys_at_their_initialisers) {
  Options options;
  OptionsBinding().Fill(Load(""), options);
  EXPECT_EQ(options.username, "unset");
}

TEST(ConfigBindingTest, matching_binding_passes_the_check) {
  EXPECT_EQ(CheckBinding(TestSchema(), OptionsBinding().Keys()), std::nullopt);
}

TEST(ConfigBindingTest, check_names_a_misspelled_key_with_a_suggestion) {
  std::vector<BoundKey> keys = OptionsBinding().Keys();
  keys.at(0).name = "adress";
  EXPECT_EQ(CheckBinding(TestSchema(), keys).value_or("(none)"),
            "binds key 'adress', which its schema does not declare; did you mean 'address'?");
}

TEST(ConfigBindingTest, check_rejects_a_member_of_the_wrong_type) {
  const Binding<Options> binding = {Bind("address", &Options::top_k)};
  EXPECT_EQ(CheckBinding(TestSchema(), binding.Keys()).value_or("(none)"),
            "binds key 'address' to a member holding an integer, but the schema declares a "
            "string");
}

TEST(ConfigBindingTest, check_rejects_a_schema_key_nobody_reads) {
  std::vector<BoundKey> keys = OptionsBinding().Keys();
  keys.erase(keys.begin() + 1);
  EXPECT_EQ(CheckBinding(TestSchema(), keys).value_or("(none)"),
            "declares key 'username' but neither binds it to a member nor marks it ReadByCode");
}

TEST(ConfigBindingTest, check_covers_the_fields_of_table_lists) {
  std::vector<BoundKey> keys = OptionsBinding().Keys();
  keys.back().fields.at(1).name = "slef";
  EXPECT_EQ(CheckBinding(TestSchema(), keys).value_or("(none)"),
            "in the elements of 'groups': binds key 'slef', which its schema does not declare; "
            "did you mean 'self'?");
}

}  // namespace
}  // namespace tacho::config

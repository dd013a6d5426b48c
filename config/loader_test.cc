#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/config.h"

namespace tacho::config {
namespace {

// A stand-in kind with every key type, so the loader is tested without any real collector.
const Schema& FakeSchema() {
  static const Schema kSchema = {
      {.name = "dsn", .type = Type::kString, .required = true},
      {.name = "password", .type = Type::kString, .secret = true},
      {.name = "top_k", .type = Type::kInt, .default_value = "100", .min = 1, .max = 10000},
      {.name = "mode",
       .type = Type::kString,
       .default_value = "\"fast\"",
       .allowed = {"fast", "slow"}},
      {.name = "enabled", .type = Type::kBool, .default_value = "true"},
      {.name = "ratio", .type = Type::kFloat, .default_value = "0.5"},
      {.name = "slow_interval", .type = Type::kDuration, .default_value = "\"5m\""},
      {.name = "databases", .type = Type::kStringList, .default_value = "[\"*\"]"},
      {.name = "headers", .type = Type::kStringMap},
      {.name = "statements.top_k", .type = Type::kInt, .default_value = "100"},
      {.name = "groups",
       .type = Type::kTableList,
       .fields = {{.name = "name", .type = Type::kString, .required = true},
                  {.name = "comm", .type = Type::kStringList}}},
  };
  return kSchema;
}

KindSchemas Kinds() {
  return KindSchemas{
      .find = [](std::string_view kind) -> const Schema* {
        return kind == "fake" ? &FakeSchema() : nullptr;
      },
      .kinds =
          [] {
            return std::vector<std::string>{"fake", "process"};
          },
  };
}

std::string ErrorOf(std::string_view text) {
  auto result = LoadString(text, "tacho.toml", Kinds());
  if (result) return "(no error)";
  return result.error().ToString();
}

TEST(ConfigLoaderTest, empty_document_gives_agent_defaults) {
  auto config = LoadString("", "tacho.toml", Kinds());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->agent.listen, "127.0.0.1:9478");
  EXPECT_EQ(config->agent.log_level, "info");
  EXPECT_EQ(config->agent.log_format, "text");
  EXPECT_EQ(config->agent.http_max_connections, 64);
  EXPECT_EQ(config->agent.http_header_timeout, std::chrono::seconds(10));
  EXPECT_TRUE(config->collectors.empty());
}

TEST(ConfigLoaderTest, instance_gets_defaults_and_typed_values) {
  auto config = LoadString(R"(
[[collectors.fake]]
name = "db"
dsn = "host=x"
interval = "30s"
statements.top_k = 7
headers = { a = "b" }

[[collectors.fake.groups]]
name = "pg"
comm = ["postgres"]
)",
                           "tacho.toml", Kinds());
  ASSERT_TRUE(config) << config.error().ToString();
  ASSERT_EQ(config->collectors.size(), 1u);
  const CollectorInstance& c = config->collectors[0];
  EXPECT_EQ(c.kind, "fake");
  EXPECT_EQ(c.name, "db");
  EXPECT_EQ(c.interval, std::chrono::seconds(30));
  EXPECT_EQ(c.timeout, std::chrono::seconds(24)) << "default timeout is 80% of the interval";
  EXPECT_EQ(c.section.GetString("dsn"), "host=x");
  EXPECT_EQ(c.section.GetInt("top_k"), 100);
  EXPECT_EQ(c.section.GetInt("statements.top_k"), 7);
  EXPECT_EQ(c.section.GetString("mode"), "fast");
  EXPECT_TRUE(c.section.GetBool("enabled"));
  EXPECT_DOUBLE_EQ(c.section.GetFloat("ratio"), 0.5);
  EXPECT_EQ(c.section.GetDuration("slow_interval"), std::chrono::minutes(5));
  EXPECT_EQ(c.section.GetStringList("databases"), std::vector<std::string>{"*"});
  EXPECT_EQ(c.section.GetStringMap("headers").at("a"), "b");
  EXPECT_FALSE(c.section.Has("password"));
  ASSERT_EQ(c.section.GetTableList("groups").size(), 1u);
  EXPECT_EQ(c.section.GetTableList("groups")[0].GetStringList("comm")[0], "postgres");
}

TEST(ConfigLoaderTest, dotted_key_also_accepted_as_subtable) {
  auto config = LoadString(R"(
[[collectors.fake]]
name = "db"
dsn = "x"
[collectors.fake.statements]
top_k = 9
)",
                           "tacho.toml", Kinds());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->collectors[0].section.GetInt("statements.top_k"), 9);
}

TEST(ConfigLoaderTest, unknown_key_names_position_and_suggests) {
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\nname = \"db\"\ndsn = \"x\"\n  intervall = \"5s\"\n"),
            "tacho.toml:4:3: unknown key 'intervall' in [[collectors.fake]] 'db'; did you mean "
            "'interval'?");
}

TEST(ConfigLoaderTest, unknown_key_without_close_match_has_no_suggestion) {
  EXPECT_EQ(ErrorOf("[agent]\nzzzzzz = 1\n"), "tacho.toml:2:1: unknown key 'zzzzzz' in [agent]");
}

TEST(ConfigLoaderTest, unknown_kind_suggests_known_kind) {
  EXPECT_EQ(ErrorOf("[[collectors.procss]]\nname = \"a\"\n"),
            "tacho.toml:1:14: unknown collector kind 'procss'; did you mean 'process'? (known: "
            "fake, process)");
}

TEST(ConfigLoaderTest, unknown_section_suggests) {
  EXPECT_EQ(ErrorOf("[agnet]\n"),
            "tacho.toml:1:2: unknown section 'agnet'; did you mean 'agent'? (known: agent, "
            "collectors)");
}

TEST(ConfigLoaderTest, wrong_type_names_expected_and_actual) {
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\nname = \"db\"\ndsn = \"x\"\ntop_k = \"ten\"\n"),
            "tacho.toml:4:9: 'top_k' in [[collectors.fake]] 'db' must be an integer, got a "
            "string");
}

TEST(ConfigLoaderTest, missing_required_key) {
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\nname = \"db\"\n"),
            "tacho.toml:1:1: [[collectors.fake]] 'db' is missing required key 'dsn'");
}

TEST(ConfigLoaderTest, missing_name_is_reported_by_index) {
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\ndsn = \"x\"\n"),
            "tacho.toml:1:1: [[collectors.fake]] #1 is missing required key 'name'");
}

TEST(ConfigLoaderTest, bad_duration) {
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\nname = \"db\"\ndsn = \"x\"\ninterval = \"15x\"\n"),
            "tacho.toml:4:12: invalid duration \"15x\" for 'interval' in [[collectors.fake]] "
            "'db': unknown unit 'x' (use ms, s, m, h or d)");
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\nname = \"db\"\ndsn = \"x\"\ninterval = \"15\"\n"),
            "tacho.toml:4:12: invalid duration \"15\" for 'interval' in [[collectors.fake]] "
            "'db': missing unit (use ms, s, m, h or d, as in \"15s\")");
}

TEST(ConfigLoaderTest, timeout_must_be_less_than_interval) {
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\nname = \"db\"\ndsn = \"x\"\ninterval = \"10s\"\n"
                    "timeout = \"10s\"\n"),
            "tacho.toml:5:1: 'timeout' \"10s\" in [[collectors.fake]] 'db' must be greater than "
            "0 and less than 'interval' \"10s\"");
}

TEST(ConfigLoaderTest, duplicate_instance_names) {
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\nname = \"db\"\ndsn = \"x\"\n"
                    "[[collectors.fake]]\nname = \"db\"\ndsn = \"y\"\n"),
            "tacho.toml:5:1: duplicate collector name 'db' (first defined at tacho.toml:2:1)");
}

TEST(ConfigLoaderTest, out_of_range_and_not_allowed_values) {
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\nname = \"db\"\ndsn = \"x\"\ntop_k = 0\n"),
            "tacho.toml:4:9: 'top_k' in [[collectors.fake]] 'db' must be between 1 and 10000, "
            "got 0");
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\nname = \"db\"\ndsn = \"x\"\nmode = \"fsat\"\n"),
            "tacho.toml:4:8: 'mode' in [[collectors.fake]] 'db' must be one of fast, slow; got "
            "\"fsat\"; did you mean \"fast\"?");
}

TEST(ConfigLoaderTest, kind_must_be_array_of_tables) {
  EXPECT_EQ(ErrorOf("[collectors.fake]\nname = \"db\"\n"),
            "tacho.toml:1:13: collectors.fake must be an array of tables: write "
            "[[collectors.fake]]");
}

TEST(ConfigLoaderTest, nested_table_list_errors_name_their_parent) {
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\nname = \"db\"\ndsn = \"x\"\n"
                    "[[collectors.fake.groups]]\nname = \"pg\"\ncom = [\"postgres\"]\n"),
            "tacho.toml:6:1: unknown key 'com' in [[collectors.fake.groups]] 'pg' of "
            "[[collectors.fake]] 'db'; did you mean 'comm'?");
}

TEST(ConfigLoaderTest, declared_top_level_section_is_validated_with_defaults) {
  static const Schema kAlerts = {
      {.name = "interval", .type = Type::kDuration, .default_value = "\"30s\""},
      {.name = "rules",
       .type = Type::kTableList,
       .fields = {{.name = "name", .type = Type::kString, .required = true},
                  {.name = "labels", .type = Type::kStringMap}}},
  };
  KindSchemas kinds = Kinds();
  kinds.sections = {{"alerts", &kAlerts}};
  auto absent = LoadString("", "tacho.toml", kinds);
  ASSERT_TRUE(absent) << absent.error().ToString();
  EXPECT_EQ(absent->sections.at("alerts").GetDuration("interval"), std::chrono::seconds(30));
  EXPECT_TRUE(absent->sections.at("alerts").GetTableList("rules").empty());

  auto set = LoadString(
      "[alerts]\ninterval = \"10s\"\n[[alerts.rules]]\nname = \"X\"\n"
      "labels = { severity = \"page\" }\n",
      "tacho.toml", kinds);
  ASSERT_TRUE(set) << set.error().ToString();
  const auto& rules = set->sections.at("alerts").GetTableList("rules");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].GetStringMap("labels").at("severity"), "page");

  auto bad = LoadString("[alerts]\nintreval = \"10s\"\n", "tacho.toml", kinds);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().ToString(),
            "tacho.toml:2:1: unknown key 'intreval' in [alerts]; did you mean 'interval'?");
  auto typo = LoadString("[alert]\n", "tacho.toml", kinds);
  ASSERT_FALSE(typo);
  EXPECT_EQ(typo.error().ToString(),
            "tacho.toml:1:2: unknown section 'alert'; did you mean 'alerts'? (known: agent, "
            "collectors, alerts)");
}

TEST(ConfigLoaderTest, toml_syntax_error_has_position) {
  std::string err = ErrorOf("[agent]\nlisten = \n");
  EXPECT_EQ(err.rfind("tacho.toml:2:", 0), 0u) << err;
}

TEST(ConfigLoaderTest, tls_requires_both_files) {
  EXPECT_EQ(ErrorOf("[agent]\ntls.cert_file = \"/c.pem\"\n"),
            "tacho.toml:1:1: [agent] sets only one of tls.cert_file and tls.key_file; add "
            "tls.key_file");
}

TEST(ConfigLoaderTest, secret_from_file_and_env_is_recorded_for_redaction) {
  auto dir = std::filesystem::temp_directory_path() / "tacho_config_test";
  std::filesystem::create_directories(dir);
  auto file = dir / "pw";
  std::ofstream(file) << "s3cret-from-file\n";
  auto config = LoadString(
      "[[collectors.fake]]\nname = \"a\"\ndsn = \"x\"\npassword_file = \"" + file.string() + "\"\n",
      "tacho.toml", Kinds());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->collectors[0].section.GetString("password"), "s3cret-from-file");
  EXPECT_EQ(config->secrets, std::vector<std::string>{"s3cret-from-file"});

  setenv("TACHO_TEST_PW", "s3cret-from-env", 1);
  config = LoadString(
      "[[collectors.fake]]\nname = \"a\"\ndsn = \"x\"\npassword_env = "
      "\"TACHO_TEST_PW\"\n",
      "tacho.toml", Kinds());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->collectors[0].section.GetString("password"), "s3cret-from-env");
  std::filesystem::remove_all(dir);
}

TEST(ConfigLoaderTest, secret_errors_do_not_print_the_secret) {
  unsetenv("TACHO_TEST_UNSET");
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\nname = \"a\"\ndsn = \"x\"\npassword_env = "
                    "\"TACHO_TEST_UNSET\"\n"),
            "tacho.toml:4:16: environment variable 'TACHO_TEST_UNSET' named by 'password_env' is "
            "not set");
  EXPECT_EQ(ErrorOf("[[collectors.fake]]\nname = \"a\"\ndsn = \"x\"\npassword = \"hunter2\"\n"
                    "password_env = \"X\"\n"),
            "tacho.toml:5:1: set only one of 'password' and 'password_env' in "
            "[[collectors.fake]] 'a'");
  std::string err = ErrorOf(
      "[[collectors.fake]]\nname = \"a\"\ndsn = \"x\"\npassword_file = \"/nonexistent/pw\"\n");
  EXPECT_EQ(err,
            "tacho.toml:4:17: cannot read 'password_file' '/nonexistent/pw': No such file or "
            "directory");
}

TEST(ConfigLoaderTest, missing_file_is_reported) {
  auto result = LoadFile("/nonexistent/tacho.toml", Kinds());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().ToString(),
            "/nonexistent/tacho.toml: cannot read configuration: No such file or directory");
}

TEST(ConfigSampleTest, sample_loads_and_lists_every_key) {
  std::vector<SampleKind> kinds = {{"fake", "A fake kind for tests.", &FakeSchema()}};
  std::string sample = GenerateSample(kinds);
  auto config = LoadString(sample, "sample.toml", Kinds());
  ASSERT_TRUE(config) << config.error().ToString() << "\n" << sample;
  for (const KeySpec& spec : AgentSchema()) {
    EXPECT_NE(sample.find(spec.name + " = "), std::string::npos) << spec.name;
  }
  for (const KeySpec& spec : FakeSchema()) {
    EXPECT_NE(sample.find(spec.name), std::string::npos) << spec.name;
  }
  EXPECT_NE(sample.find("[[collectors.fake.groups]]"), std::string::npos);
}

TEST(ConfigSampleTest, uncommented_kind_sample_with_required_keys_loads) {
  // Uncommenting the kind block (keys shown with values) yields a loadable instance.
  std::vector<SampleKind> kinds = {{"fake", "A fake kind.", &FakeSchema()}};
  std::string block = GenerateKindSample(kinds[0]);
  std::string uncommented;
  std::istringstream lines(block);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# ", 0) == 0 && line.find("##") == std::string::npos &&
        line.find("password") == std::string::npos && line.find("headers") == std::string::npos &&
        line.find("timeout") == std::string::npos) {
      line = line.substr(2);
    }
    uncommented += line + "\n";
  }
  auto config = LoadString(uncommented, "sample.toml", Kinds());
  ASSERT_TRUE(config) << config.error().ToString() << "\n" << uncommented;
  ASSERT_EQ(config->collectors.size(), 1u);
}

TEST(ConfigSampleTest, folder_sample_loads_one_instance_per_kind_named_after_it) {
  Schema with_examples = FakeSchema();
  with_examples.back().examples = {
      {.description = "Postgres.", .lines = {"name = \"pg\"", "comm = [\"postgres\"]"}},
      {.description = "Not set.", .lines = {"name = \"off\""}, .commented = true}};
  const std::string sample = GenerateFolderSample({{"fake", "A fake kind.", &with_examples}});
  KindSchemas kinds = Kinds();
  kinds.find = [&with_examples](std::string_view kind) -> const Schema* {
    return kind == "fake" ? &with_examples : nullptr;
  };
  auto config = LoadString(sample, "sample.toml", kinds);
  ASSERT_TRUE(config) << config.error().ToString() << "\n" << sample;
  ASSERT_EQ(config->collectors.size(), 1u);
  EXPECT_EQ(config->collectors[0].name, "fake");
  const auto& groups = config->collectors[0].section.GetTableList("groups");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].GetString("name"), "pg");
  EXPECT_NE(sample.find("# fake: A fake kind."), std::string::npos) << sample;
  EXPECT_NE(sample.find("#   [[collectors.fake.groups]]\n\n#     ## Required."), std::string::npos)
      << sample;
}

TEST(ConfigSampleTest, reference_table_lists_every_key_between_markers) {
  const std::string table = GenerateConfigReference({"fake", "A fake kind.", &FakeSchema()});
  EXPECT_EQ(table.rfind("<!-- BEGIN GENERATED CONFIG: fake -->\n", 0), 0u) << table;
  EXPECT_NE(table.find("\n<!-- END GENERATED CONFIG -->\n"), std::string::npos) << table;
  EXPECT_NE(table.find("| `name` | string | required | "), std::string::npos) << table;
  EXPECT_NE(table.find("| `top_k` | integer 1–10000 | `100` | "), std::string::npos) << table;
  EXPECT_NE(table.find("| `password` | string, secret | — | Also as `password_file` (a file "
                       "holding it) or `password_env` (an environment variable holding it). |"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("One of: `fast`, `slow`."), std::string::npos) << table;
  EXPECT_NE(table.find("| `groups.name` | string | required | "), std::string::npos) << table;
}

}  // namespace
}  // namespace tacho::config

#include "exporters/webhook/webhook_payload.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "base/http_client.h"

namespace tacho::webhook {
namespace {

namespace json = boost::json;

std::string Str(const json::value& v) { return std::string(v.as_string()); }

TEST(FingerprintTest, matches_prometheus_label_signature) {
  EXPECT_EQ(FingerprintHex({}), "cbf29ce484222325");
  // Computed independently (Python: FNV-1a 64 over b"alertname\xffX\xff").
  EXPECT_EQ(FingerprintHex({{"alertname", "X"}}), "d2aeefc389ca7746");
  EXPECT_NE(Fingerprint({{"a", "bc"}}), Fingerprint({{"ab", "c"}})) << "separators matter";
}

TEST(GroupKeyTest, alertmanager_format) {
  EXPECT_EQ(GroupKey({{"alertname", "X"}, {"target", "db \"1\""}}),
            "{}:{alertname=\"X\",target=\"db \\\"1\\\"\"}");
  EXPECT_EQ(GroupKey({}), "{}:{}");
}

TEST(WebhookBodyTest, alertmanager_v4_fields) {
  WebhookMessage m;
  m.receiver = "oncall";
  m.group_labels = {{"alertname", "X"}};
  m.group_key = GroupKey(m.group_labels);
  m.external_url = "http://tacho:9478";
  alerts::NotifyAlert firing{{{"alertname", "X"}, {"target", "a"}, {"severity", "warning"}},
                             {{"summary", "a is bad"}, {"runbook_url", "http://rb"}},
                             1'700'000'000'000,
                             0,
                             "http://tacho:9478/api/v1/rules?rule=X"};
  alerts::NotifyAlert resolved{{{"alertname", "X"}, {"target", "b"}, {"severity", "warning"}},
                               {{"summary", "b is bad"}, {"runbook_url", "http://rb"}},
                               1'700'000'000'000,
                               1'700'000'060'500,
                               ""};
  m.alerts = {firing, resolved};
  m.truncated_alerts = 2;
  const std::string body = RenderWebhookBody(m);
  EXPECT_EQ(body.rfind("{\"receiver\":\"oncall\",\"status\":\"firing\",\"alerts\":[", 0), 0u)
      << body;
  json::object o = json::parse(body).as_object();
  EXPECT_EQ(Str(o.at("version")), "4");
  EXPECT_EQ(Str(o.at("groupKey")), "{}:{alertname=\"X\"}");
  EXPECT_EQ(o.at("truncatedAlerts").to_number<std::uint64_t>(), 2u);
  EXPECT_EQ(Str(o.at("externalURL")), "http://tacho:9478");
  EXPECT_EQ(json::serialize(o.at("groupLabels")), "{\"alertname\":\"X\"}");
  EXPECT_EQ(json::serialize(o.at("commonLabels")),
            "{\"alertname\":\"X\",\"severity\":\"warning\"}");
  EXPECT_EQ(json::serialize(o.at("commonAnnotations")), "{\"runbook_url\":\"http://rb\"}");
  const json::object& a0 = o.at("alerts").as_array()[0].as_object();
  EXPECT_EQ(Str(a0.at("status")), "firing");
  EXPECT_EQ(Str(a0.at("startsAt")), "2023-11-14T22:13:20Z");
  EXPECT_EQ(Str(a0.at("endsAt")), "0001-01-01T00:00:00Z");
  EXPECT_EQ(Str(a0.at("generatorURL")), "http://tacho:9478/api/v1/rules?rule=X");
  EXPECT_EQ(Str(a0.at("fingerprint")), FingerprintHex(firing.labels));
  const json::object& a1 = o.at("alerts").as_array()[1].as_object();
  EXPECT_EQ(Str(a1.at("status")), "resolved");
  EXPECT_EQ(Str(a1.at("endsAt")), "2023-11-14T22:14:20.5Z");

  m.alerts = {resolved};
  EXPECT_EQ(Str(json::parse(RenderWebhookBody(m)).as_object().at("status")), "resolved");
}

TEST(SignatureTest, standard_webhooks_spec_example) {
  // The example of the Standard Webhooks specification.
  auto secrets = ParseSecrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(secrets);
  auto headers = SignatureHeaders(*secrets, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                  "{\"test\": 2432232314}");
  ASSERT_EQ(headers.size(), 4u);
  EXPECT_EQ(headers[0],
            (std::pair<std::string, std::string>{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"}));
  EXPECT_EQ(headers[1].second, "1614265330");
  EXPECT_EQ(headers[2].second, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_EQ(headers[3].first, "X-Hub-Signature-256");
}

TEST(SignatureTest, several_secrets_for_rotation_and_github_style) {
  auto secrets = ParseSecrets("old-secret\n  new-secret\n");
  ASSERT_TRUE(secrets);
  ASSERT_EQ(secrets->size(), 2u);
  auto headers = SignatureHeaders(*secrets, "msg_1", 1, "body");
  const std::string sig = headers[2].second;
  EXPECT_EQ(sig.find("v1,"), 0u);
  EXPECT_NE(sig.find(" v1,"), std::string::npos);
  // GitHub's documented example: secret "It's a Secret to Everybody", body "Hello, World!".
  auto gh =
      SignatureHeaders(*ParseSecrets("It's a Secret to Everybody"), "msg_1", 1, "Hello, World!");
  EXPECT_EQ(gh[3].second,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  EXPECT_FALSE(ParseSecrets("whsec_!!!notbase64"));
  EXPECT_TRUE(SignatureHeaders({}, "msg_1", 1, "b").size() == 2u) << "unsigned without secrets";
}

TEST(UrlTest, parses_http_and_https) {
  auto u = base::ParseUrl("https://hooks.example.com/a/b?c=d");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/a/b?c=d");
  u = base::ParseUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/");
  u = base::ParseUrl("http://[::1]:9/x");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_FALSE(base::ParseUrl("ftp://x"));
  EXPECT_FALSE(base::ParseUrl("http://user:pw@x/"));
}

}  // namespace
}  // namespace tacho::webhook

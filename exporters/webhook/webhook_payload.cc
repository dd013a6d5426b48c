#include "exporters/webhook/webhook_payload.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>
#include <cstdio>
#include <sstream>

namespace tacho::webhook {

namespace json = boost::json;

namespace {

constexpr std::uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr std::uint64_t kFnvPrime = 1099511628211ULL;
constexpr unsigned char kSeparator = 0xff;

std::uint64_t HashAdd(std::uint64_t h, const std::string& s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}
std::uint64_t HashAddByte(std::uint64_t h, unsigned char b) {
  h ^= b;
  return h * kFnvPrime;
}

json::object MapJson(const LabelMap& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

// The pairs every map shares.
LabelMap Common(const std::vector<const LabelMap*>& maps) {
  if (maps.empty()) return {};
  LabelMap common = *maps[0];
  for (std::size_t i = 1; i < maps.size(); ++i) {
    for (auto it = common.begin(); it != common.end();) {
      auto f = maps[i]->find(it->first);
      if (f == maps[i]->end() || f->second != it->second) {
        it = common.erase(it);
      } else {
        ++it;
      }
    }
  }
  return common;
}

std::string Base64Decode(const std::string& text, bool* ok) {
  std::string out((text.size() / 4 + 1) * 3, '\0');
  if (text.size() % 4 != 0) {
    *ok = false;
    return "";
  }
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) {
    *ok = false;
    return "";
  }
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() > 1 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  *ok = true;
  return out;
}

}  // namespace

std::uint64_t Fingerprint(const LabelMap& labels) {
  std::uint64_t h = kFnvOffset;
  for (const auto& [name, value] : labels) {  // std::map: sorted by name
    h = HashAdd(h, name);
    h = HashAddByte(h, kSeparator);
    h = HashAdd(h, value);
    h = HashAddByte(h, kSeparator);
  }
  return h;
}

std::string FingerprintHex(const LabelMap& labels) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(Fingerprint(labels)));
  return buf;
}

std::string GroupKey(const LabelMap& group_labels) {
  std::string out = "{}:{";
  bool first = true;
  for (const auto& [k, v] : group_labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=" + json::serialize(json::string(v));
  }
  return out + "}";
}

std::string RenderWebhookBody(const WebhookMessage& message) {
  json::array alerts;
  bool firing = false;
  std::vector<const LabelMap*> labels, annotations;
  for (const alerts::NotifyAlert& a : message.alerts) {
    if (!a.resolved()) firing = true;
    labels.push_back(&a.labels);
    annotations.push_back(&a.annotations);
    alerts.push_back(json::object{
        {"status", a.resolved() ? "resolved" : "firing"},
        {"labels", MapJson(a.labels)},
        {"annotations", MapJson(a.annotations)},
        {"startsAt", alerts::FormatRfc3339Ms(a.starts_at)},
        {"endsAt", alerts::FormatRfc3339Ms(a.ends_at)},
        {"generatorURL", a.generator_url},
        {"fingerprint", FingerprintHex(a.labels)},
    });
  }
  // Field order as Go's encoding/json writes Alertmanager's Message.
  json::object root;
  root["receiver"] = message.receiver;
  root["status"] = firing ? "firing" : "resolved";
  root["alerts"] = std::move(alerts);
  root["groupLabels"] = MapJson(message.group_labels);
  root["commonLabels"] = MapJson(Common(labels));
  root["commonAnnotations"] = MapJson(Common(annotations));
  root["externalURL"] = message.external_url;
  root["version"] = "4";
  root["groupKey"] = message.group_key;
  root["truncatedAlerts"] = message.truncated_alerts;
  return json::serialize(root);
}

std::string RenderAlertmanagerBody(const std::vector<PushedAlert>& alerts) {
  json::array out;
  for (const PushedAlert& p : alerts) {
    out.push_back(json::object{
        {"labels", MapJson(p.alert.labels)},
        {"annotations", MapJson(p.alert.annotations)},
        {"startsAt", alerts::FormatRfc3339Ms(p.alert.starts_at)},
        {"endsAt", alerts::FormatRfc3339Ms(p.ends_at)},
        {"generatorURL", p.alert.generator_url},
    });
  }
  return json::serialize(out);
}

Expected<std::vector<WebhookSecret>> ParseSecrets(const std::string& value) {
  std::vector<WebhookSecret> out;
  std::istringstream lines(value);
  std::string word;
  int index = 0;
  while (std::getline(lines, word)) {
    const auto b = word.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    word = word.substr(b, word.find_last_not_of(" \t\r") - b + 1);
    ++index;
    WebhookSecret s{word, word};
    if (word.rfind("whsec_", 0) == 0) {
      bool ok = false;
      s.key = Base64Decode(word.substr(6), &ok);
      if (!ok || s.key.empty()) {
        return Status::Error("secret #" + std::to_string(index) +
                             " starts with whsec_ but the rest is not base64");
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string HmacSha256(const std::string& key, const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string Hex(const std::string& bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> SignatureHeaders(
    const std::vector<WebhookSecret>& secrets, const std::string& id, std::int64_t unix_seconds,
    const std::string& body) {
  std::vector<std::pair<std::string, std::string>> h;
  const std::string ts = std::to_string(unix_seconds);
  h.emplace_back("webhook-id", id);
  h.emplace_back("webhook-timestamp", ts);
  if (secrets.empty()) return h;
  std::string sigs;
  const std::string signed_content = id + "." + ts + "." + body;
  for (const WebhookSecret& s : secrets) {
    if (!sigs.empty()) sigs += ' ';
    sigs += "v1," + Base64(HmacSha256(s.key, signed_content));
  }
  h.emplace_back("webhook-signature", sigs);
  h.emplace_back("X-Hub-Signature-256", "sha256=" + Hex(HmacSha256(secrets[0].text, body)));
  return h;
}

}  // namespace tacho::webhook

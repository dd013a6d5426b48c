#include "collectors/postgres/conninfo.h"

#include <libpq-fe.h>

#include <string>

#include "base/text.h"

namespace tacho::collectors::postgres {
namespace {

const std::string* Find(const ConnParams& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Set(ConnParams& params, std::string_view key, std::string value) {
  for (auto& [k, v] : params) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  params.emplace_back(std::string(key), std::move(value));
}

}  // namespace

Expected<ConnParams, std::string> ParseDsn(std::string_view dsn) {
  char* error = nullptr;
  const std::string text(dsn);
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    if (error != nullptr) PQfreemem(error);
    // libpq quotes a malformed URI whole, password included.
    return base::RedactConnectionPasswords(base::OneLine(message));
  }
  ConnParams params;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) params.emplace_back(o->keyword, o->val);
  }
  PQconninfoFree(options);
  return params;
}

std::string QuoteConnValue(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

std::string BuildConnInfo(const ConnParams& dsn_params, const SessionSettings& settings) {
  ConnParams params = dsn_params;
  if (Find(params, "application_name") == nullptr && !settings.application_name.empty()) {
    Set(params, "application_name", settings.application_name);
  }
  if (Find(params, "client_encoding") == nullptr && !settings.client_encoding.empty()) {
    Set(params, "client_encoding", settings.client_encoding);
  }
  if (Find(params, "connect_timeout") == nullptr && settings.connect_timeout_seconds > 0) {
    Set(params, "connect_timeout", std::to_string(settings.connect_timeout_seconds));
  }
  if (!settings.password.empty()) Set(params, "password", settings.password);
  if (!settings.dbname.empty()) Set(params, "dbname", settings.dbname);

  const std::string* user_options = Find(params, "options");
  std::string options = user_options != nullptr ? *user_options : "";
  auto add_guc = [&options](std::string_view name, long long ms) {
    if (ms <= 0 || options.find(name) != std::string::npos) return;
    if (!options.empty()) options += ' ';
    options += "-c ";
    options += name;
    options += '=';
    options += std::to_string(ms);
  };
  add_guc("statement_timeout", settings.statement_timeout_ms);
  add_guc("lock_timeout", settings.lock_timeout_ms);
  if (!options.empty()) Set(params, "options", options);

  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += ' ';
    out += k;
    out += '=';
    out += QuoteConnValue(v);
  }
  return out;
}

std::string DsnDatabase(const ConnParams& params) {
  if (const std::string* db = Find(params, "dbname"); db != nullptr && !db->empty()) return *db;
  if (const std::string* user = Find(params, "user"); user != nullptr) return *user;
  return "";
}

std::string DescribeTarget(const ConnParams& params, std::string_view dbname) {
  const std::string* host = Find(params, "host");
  if (host == nullptr || host->empty()) host = Find(params, "hostaddr");
  const std::string* port = Find(params, "port");
  std::string out = host != nullptr && !host->empty() ? *host : "localhost";
  out += ':';
  out += port != nullptr && !port->empty() ? *port : "5432";
  out += '/';
  out += dbname.empty() ? DsnDatabase(params) : std::string(dbname);
  return out;
}

}  // namespace tacho::collectors::postgres

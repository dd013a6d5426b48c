#include "base/url.h"

#include <cctype>

namespace tacho::base {

std::string Url::ForMessages() const {
  const bool default_port =
      (scheme == "https" && port == "443") || (scheme == "http" && port == "80");
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string path = target.substr(0, target.find('?'));
  return scheme + "://" + h + (default_port ? "" : ":" + port) + path;
}

Expected<Url> ParseUrl(std::string_view text, std::string_view credentials_hint) {
  Url u;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return Status::Error("must start with http:// or https://");
  }
  u.scheme = std::string(text.substr(0, scheme_end));
  for (char& c : u.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u.scheme != "http" && u.scheme != "https") {
    return Status::Error("scheme must be http or https, not '" + u.scheme + "'");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  const auto path_start = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, path_start);
  u.target = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (auto hash = u.target.find('#'); hash != std::string::npos) u.target.resize(hash);
  if (u.target.empty() || u.target[0] != '/') u.target = "/" + u.target;
  for (char c : u.target) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Status::Error("the path contains a space or control character; percent-encode it");
    }
  }
  if (authority.find('@') != std::string_view::npos) {
    std::string message = "credentials in the URL are not supported";
    if (!credentials_hint.empty()) message += "; use " + std::string(credentials_hint);
    return Status::Error(message);
  }
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return Status::Error("unclosed '[' in the host");
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return Status::Error("unexpected text after ']'");
      port = authority.substr(close + 2);
      if (port.empty()) return Status::Error("empty port");
    }
  } else {
    const auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return Status::Error("empty port");
    }
  }
  if (u.host.empty()) return Status::Error("no host");
  if (port.empty()) {
    u.port = u.scheme == "https" ? "443" : "80";
  } else {
    if (port.size() > 5) return Status::Error("bad port '" + std::string(port) + "'");
    int n = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        return Status::Error("bad port '" + std::string(port) + "'");
      }
      n = n * 10 + (c - '0');
    }
    if (n < 1 || n > 65535) return Status::Error("port " + std::string(port) + " out of range");
    u.port = std::to_string(n);
  }
  return u;
}

}  // namespace tacho::base

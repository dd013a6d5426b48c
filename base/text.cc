#include "base/text.h"

#include <algorithm>
#include <cctype>

namespace tacho::base {

namespace {

constexpr std::string_view kRedacted = "<redacted>";

bool EndsValue(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '&' ||
         c == '#';
}

// Redacts "user:PASSWORD@" after each "://".
std::string RedactUriUserinfo(std::string_view text) {
  std::string out;
  std::size_t copied = 0;
  for (std::size_t scheme = text.find("://"); scheme != std::string_view::npos;
       scheme = text.find("://", scheme + 3)) {
    const std::size_t start = scheme + 3;
    std::size_t end = start;
    while (end < text.size() && text[end] != '/' && text[end] != '?' && !EndsValue(text[end])) {
      ++end;
    }
    const std::size_t at = text.substr(start, end - start).rfind('@');
    if (at == std::string_view::npos) continue;
    const std::size_t colon = text.substr(start, at).find(':');
    if (colon == std::string_view::npos) continue;
    out.append(text.substr(copied, start + colon + 1 - copied));
    out.append(kRedacted);
    copied = start + at;
  }
  out.append(text.substr(copied));
  return out;
}

// Redacts the value after "password", "password =" and "password=" ('quoted' or bare).
std::string RedactPasswordValues(std::string_view text) {
  constexpr std::string_view kKey = "password";
  std::string out;
  std::size_t copied = 0;
  for (std::size_t key = text.find(kKey); key != std::string_view::npos;
       key = text.find(kKey, key + kKey.size())) {
    std::size_t i = key + kKey.size();
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size() || text[i] != '=') continue;
    ++i;
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t value = i;
    if (i < text.size() && text[i] == '\'') {
      for (++i; i < text.size() && text[i] != '\''; ++i) {
        if (text[i] == '\\') ++i;
      }
      if (i < text.size()) ++i;  // the closing quote
    } else {
      while (i < text.size() && !EndsValue(text[i])) ++i;
    }
    if (i == value) continue;
    out.append(text.substr(copied, value - copied));
    out.append(kRedacted);
    copied = i;
    key = i - kKey.size();
  }
  out.append(text.substr(std::min(copied, text.size())));
  return out;
}

}  // namespace

std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string RedactConnectionPasswords(std::string_view text) {
  return RedactPasswordValues(RedactUriUserinfo(text));
}

}  // namespace tacho::base

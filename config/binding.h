// How a collector kind's options struct is filled from its validated Section: one declarative
// table per kind that copies each declared key into a typed member, or names the key as read by
// the kind's own code (parsing or cross-key checks beyond a typed copy). The registry checks the
// table against the kind's schema at registration (CheckBinding), so a misspelled key fails at
// start-up of every test and binary, not when an instance happens to be configured.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "config/config.h"

namespace tacho::config {

// What a binding says about one key.
struct BoundKey {
  std::string name;
  // The schema type the member needs; nullopt: the key is read by the kind's own code.
  std::optional<Type> type;
  // A table list read by code: the binding of its elements, checked against the key's fields.
  std::vector<BoundKey> fields = {};
};

// The first mismatch between `keys` and `schema`, or nullopt: a key the schema does not declare,
// a key bound twice, a member whose type differs from the key's, or a schema key that is neither
// bound nor read by code. Nested table lists are checked against their fields.
std::optional<std::string> CheckBinding(const Schema& schema, const std::vector<BoundKey>& keys);

// The key is read by the kind's own code after the binding's typed copy.
inline BoundKey ReadByCode(std::string key, std::vector<BoundKey> fields = {}) {
  return BoundKey{std::move(key), std::nullopt, std::move(fields)};
}

namespace detail {

template <class T>
constexpr Type TypeOf() {
  if constexpr (std::is_same_v<T, bool>) {
    return Type::kBool;
  } else if constexpr (std::is_integral_v<T>) {
    return Type::kInt;
  } else if constexpr (std::is_floating_point_v<T>) {
    return Type::kFloat;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return Type::kString;
  } else if constexpr (std::is_same_v<T, Duration>) {
    return Type::kDuration;
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    return Type::kStringList;
  } else {
    static_assert(std::is_same_v<T, StringMap>, "no config type holds this member type");
    return Type::kStringMap;
  }
}

template <class T>
T Read(const Section& section, std::string_view key) {
  constexpr Type type = TypeOf<T>();
  if constexpr (type == Type::kBool) {
    return section.GetBool(key);
  } else if constexpr (type == Type::kInt) {
    // The schema's min/max keep the value within the member's range.
    return static_cast<T>(section.GetInt(key));
  } else if constexpr (type == Type::kFloat) {
    return static_cast<T>(section.GetFloat(key));
  } else if constexpr (type == Type::kString) {
    return section.GetString(key);
  } else if constexpr (type == Type::kDuration) {
    return section.GetDuration(key);
  } else if constexpr (type == Type::kStringList) {
    return section.GetStringList(key);
  } else {
    return section.GetStringMap(key);
  }
}

}  // namespace detail

template <class Options>
class Binding {
 public:
  struct Entry {
    // A key read by code: no copy.
    Entry(BoundKey key) : key(std::move(key)) {}  // NOLINT(google-explicit-constructor)
    Entry(BoundKey key, std::function<void(const Section&, Options&)> copy)
        : key(std::move(key)), copy(std::move(copy)) {}
    BoundKey key;
    std::function<void(const Section&, Options&)> copy;
  };

  Binding(std::initializer_list<Entry> entries) : entries_(entries) {}

  // Copies every bound key that has a value (set, or its default) into its member; the members
  // of optional keys left unset keep their initialisers. Never fails: what can be wrong with a
  // value is the kind's code to check afterwards.
  void Fill(const Section& section, Options& options) const {
    for (const Entry& entry : entries_) {
      if (entry.copy && section.Has(entry.key.name)) entry.copy(section, options);
    }
  }

  std::vector<BoundKey> Keys() const {
    std::vector<BoundKey> keys;
    for (const Entry& entry : entries_) keys.push_back(entry.key);
    return keys;
  }

 private:
  std::vector<Entry> entries_;
};

// Copies `key` into options.*member; the member's type fixes the key's type.
template <class Options, class T>
typename Binding<Options>::Entry Bind(std::string key, T Options::*member) {
  BoundKey bound{key, detail::TypeOf<T>()};
  return {std::move(bound), [key = std::move(key), member](const Section& s, Options& o) {
            o.*member = detail::Read<T>(s, key);
          }};
}

// Copies `key` into (options.*outer).*member, for options that nest a component's own struct.
template <class Options, class Inner, class T>
typename Binding<Options>::Entry Bind(std::string key, Inner Options::*outer, T Inner::*member) {
  BoundKey bound{key, detail::TypeOf<T>()};
  return {std::move(bound), [key = std::move(key), outer, member](const Section& s, Options& o) {
            (o.*outer).*member = detail::Read<T>(s, key);
          }};
}

}  // namespace tacho::config

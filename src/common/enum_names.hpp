#pragma once
// One table per enum of the vocabulary, mapping each value to its name and accepted aliases;
// the parse_* and to_string functions of include/gpbo are all written over these tables
// (src/common/names.cpp), so a value's name is spelled in exactly one place.

#include <cstddef>
#include <string>
#include <vector>

#include "common/text.hpp"
#include "gpbo/error.hpp"

namespace gpbo {

/// One spelling of an enum value. The first entry of a value is its name; later ones are
/// aliases that parsing accepts.
template <typename E>
struct EnumName {
  E value;
  const char* name;
};

/// The name of `v`: its first entry in `table`.
template <typename E, std::size_t N>
std::string enum_to_string(const EnumName<E> (&table)[N], E v) {
  for (const EnumName<E>& e : table) {
    if (e.value == v) return e.name;
  }
  return "?";
}

/// The value `text` names in `table` (ASCII case-insensitive, aliases included). Throws
/// InvalidArgument "<what> '<text>': expected a, b or c", listing the names without aliases.
template <typename E, std::size_t N>
E enum_from_string(const EnumName<E> (&table)[N], const std::string& text, const char* what) {
  const std::string t = to_lower(text);
  for (const EnumName<E>& e : table) {
    if (t == e.name) return e.value;
  }
  std::vector<const char*> names;  // the first spelling of each value, in table order
  for (std::size_t i = 0; i < N; ++i) {
    std::size_t j = 0;
    while (j < i && table[j].value != table[i].value) ++j;
    if (j == i) names.push_back(table[i].name);
  }
  std::string list;
  for (std::size_t i = 0; i < names.size(); ++i) {
    list += i == 0 ? "" : i + 1 == names.size() ? " or " : ", ";
    list += names[i];
  }
  throw InvalidArgument(std::string(what) + " '" + text + "': expected " + list);
}

}  // namespace gpbo

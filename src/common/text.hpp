#pragma once
// Small text helpers shared by the parsers of names given by users.

#include <cctype>
#include <string>

namespace gpbo {

/// ASCII lower case: names such as "LogEI", "CUDA:0" or "Minimize" are case-insensitive.
inline std::string to_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace gpbo

#pragma once
// Text for the report's HTML: escaping and number formatting.

#include <cmath>
#include <cstdio>
#include <string>

namespace gpbo::report {

/// `text` with &, <, >, " and ' as entities: safe in element content and attribute values.
inline std::string esc(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// A number as people read it: 4 significant digits ("0.3979", "1.234e+05", "12").
inline std::string num(double x, int digits = 4) {
  if (std::isnan(x)) return "n/a";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, x);
  return buf;
}

/// A coordinate for SVG: fixed, 1 decimal.
inline std::string px(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", std::isfinite(x) ? x : 0.0);
  return buf;
}

/// Seconds as "3 h 20 min", "45 min", "12 s".
inline std::string duration(double seconds) {
  if (!(seconds > 0)) return "0 s";
  if (seconds < 120) return num(seconds, 3) + " s";
  if (seconds < 7200) return num(seconds / 60.0, 3) + " min";
  if (seconds < 2 * 86400) return num(seconds / 3600.0, 3) + " h";
  return num(seconds / 86400.0, 3) + " days";
}

}  // namespace gpbo::report

#include "report/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "report/html.hpp"

namespace gpbo::report {

double Scale::operator()(double v) const {
  double t;
  if (log) {
    const double l = std::log10(std::max(v, lo)), a = std::log10(lo), b = std::log10(hi);
    t = b > a ? (l - a) / (b - a) : 0.5;
  } else {
    t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  }
  return from + std::clamp(t, 0.0, 1.0) * (to - from);
}

std::vector<double> Scale::ticks(int n) const {
  std::vector<double> out;
  if (log) {
    for (double p = std::floor(std::log10(lo)); p <= std::ceil(std::log10(hi)); ++p) {
      const double v = std::pow(10.0, p);
      if (v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12)) out.push_back(v);
    }
    if (out.size() > 8) {  // every other decade
      std::vector<double> thin;
      for (std::size_t i = 0; i < out.size(); i += 2) thin.push_back(out[i]);
      out = thin;
    }
    if (!out.empty()) return out;
  }
  const double span = hi - lo;
  if (!(span > 0)) return {lo};
  const double raw = span / std::max(n, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) {
    out.push_back(std::abs(v) < 1e-12 * step ? 0.0 : v);
  }
  return out;
}

std::pair<double, double> padded_range(const std::vector<double>& values, bool log) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (!std::isfinite(v) || (log && !(v > 0))) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!(lo <= hi)) return {log ? 1.0 : 0.0, log ? 10.0 : 1.0};
  if (log) return {lo / 1.3, hi * 1.3};
  const double pad = hi > lo ? 0.05 * (hi - lo) : std::max(1.0, std::abs(lo)) * 0.1;
  return {lo - pad, hi + pad};
}

Svg::Svg(int width, int height, const std::string& label)
    : width_(width), height_(height), label_(label) {}

void Svg::axes(const Scale& x, const Scale& y, const std::string& x_label,
               const std::string& y_label, bool x_ticks) {
  const double x0 = std::min(x.from, x.to), x1 = std::max(x.from, x.to);
  const double y0 = std::max(y.from, y.to), y1 = std::min(y.from, y.to);
  line(x0, y0, x1, y0, "#888");
  line(x0, y0, x0, y1, "#888");
  for (double t : x_ticks ? x.ticks() : std::vector<double>{}) {
    line(x(t), y0, x(t), y0 + 4, "#888");
    text(x(t), y0 + 16, num(t, 3), "middle", 10);
  }
  for (double t : y.ticks()) {
    line(x0 - 4, y(t), x0, y(t), "#888");
    line(x0, y(t), x1, y(t), "#eee");
    text(x0 - 6, y(t) + 3, num(t, 3), "end", 10);
  }
  text((x0 + x1) / 2, y0 + (x_ticks ? 32 : 40), x_label, "middle", 11);
  text(14, (y0 + y1) / 2, y_label, "middle", 11, "rotate(-90 14 " + px((y0 + y1) / 2) + ")");
}

void Svg::circle(double cx, double cy, double r, const std::string& fill, const std::string& title,
                 double opacity) {
  body_ += "<circle cx=\"" + px(cx) + "\" cy=\"" + px(cy) + "\" r=\"" + px(r) + "\" fill=\"" +
           fill + "\"" + (opacity < 1 ? " fill-opacity=\"" + num(opacity, 2) + "\"" : "") + ">";
  if (!title.empty()) body_ += "<title>" + esc(title) + "</title>";
  body_ += "</circle>";
}

void Svg::cross(double cx, double cy, double r, const std::string& stroke,
                const std::string& title) {
  body_ += "<path d=\"M" + px(cx - r) + " " + px(cy - r) + "L" + px(cx + r) + " " + px(cy + r) +
           "M" + px(cx - r) + " " + px(cy + r) + "L" + px(cx + r) + " " + px(cy - r) +
           "\" stroke=\"" + stroke + "\" stroke-width=\"1.5\">";
  if (!title.empty()) body_ += "<title>" + esc(title) + "</title>";
  body_ += "</path>";
}

void Svg::polyline(const std::vector<std::pair<double, double>>& points, const std::string& stroke,
                   double width, double opacity, const std::string& title) {
  if (points.empty()) return;
  body_ += "<polyline fill=\"none\" stroke=\"" + stroke + "\" stroke-width=\"" + num(width, 2) +
           "\"" + (opacity < 1 ? " stroke-opacity=\"" + num(opacity, 2) + "\"" : "") + " points=\"";
  for (const auto& [x, y] : points) body_ += px(x) + "," + px(y) + " ";
  body_ += "\">";
  if (!title.empty()) body_ += "<title>" + esc(title) + "</title>";
  body_ += "</polyline>";
}

void Svg::polygon(const std::vector<std::pair<double, double>>& points, const std::string& fill,
                  double opacity) {
  if (points.empty()) return;
  body_ += "<polygon fill=\"" + fill + "\" fill-opacity=\"" + num(opacity, 2) + "\" points=\"";
  for (const auto& [x, y] : points) body_ += px(x) + "," + px(y) + " ";
  body_ += "\"/>";
}

void Svg::rect(double x, double y, double w, double h, const std::string& fill,
               const std::string& title) {
  body_ += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(std::max(w, 0.0)) +
           "\" height=\"" + px(std::max(h, 0.0)) + "\" fill=\"" + fill + "\">";
  if (!title.empty()) body_ += "<title>" + esc(title) + "</title>";
  body_ += "</rect>";
}

void Svg::line(double x1, double y1, double x2, double y2, const std::string& stroke,
               double width) {
  body_ += "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" +
           px(y2) + "\" stroke=\"" + stroke + "\" stroke-width=\"" + num(width, 2) + "\"/>";
}

void Svg::text(double x, double y, const std::string& s, const std::string& anchor, int size,
               const std::string& transform) {
  body_ += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" font-size=\"" + std::to_string(size) +
           "\" text-anchor=\"" + anchor + "\"" +
           (transform.empty() ? "" : " transform=\"" + transform + "\"") + ">" + esc(s) + "</text>";
}

std::string Svg::str() const {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(width_) + " " +
         std::to_string(height_) + "\" role=\"img\" aria-label=\"" + esc(label_) +
         "\" preserveAspectRatio=\"xMinYMin meet\"><title>" + esc(label_) + "</title>" + body_ +
         "</svg>";
}

std::string ramp(double t) {
  // Five stops of a viridis-like ramp.
  static const double stops[5][3] = {
      {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 1.0, 0.0, 1.0) * 4.0;
  const int i = std::min(static_cast<int>(t), 3);
  const double f = t - i;
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x",
                static_cast<int>(stops[i][0] + f * (stops[i + 1][0] - stops[i][0])),
                static_cast<int>(stops[i][1] + f * (stops[i + 1][1] - stops[i][1])),
                static_cast<int>(stops[i][2] + f * (stops[i + 1][2] - stops[i][2])));
  return buf;
}

}  // namespace gpbo::report

#pragma once
// The report's charts as inline SVG: scales, axes and a few marks. Every chart has a viewBox
// and scales with the page's width (phones included); titles of marks are hover text.

#include <string>
#include <utility>
#include <vector>

namespace gpbo::report {

/// A map from data to pixels, linear or logarithmic (log needs lo > 0).
struct Scale {
  double lo = 0.0, hi = 1.0;
  double from = 0.0, to = 1.0;  // pixels
  bool log = false;
  double operator()(double v) const;
  /// Round tick values inside [lo, hi] (about `n` of them).
  std::vector<double> ticks(int n = 5) const;
};

/// [lo, hi] of the finite values, widened a little (and made non-empty).
std::pair<double, double> padded_range(const std::vector<double>& values, bool log);

/// An SVG document under construction.
class Svg {
 public:
  /// `label` is the chart's accessible name (aria-label and <title>).
  Svg(int width, int height, const std::string& label);
  int width() const { return width_; }
  int height() const { return height_; }

  /// Axes with ticks and labels (`x_ticks` false: the caller labels the x axis itself, e.g.
  /// with a categorical's choices).
  void axes(const Scale& x, const Scale& y, const std::string& x_label, const std::string& y_label,
            bool x_ticks = true);
  void circle(double cx, double cy, double r, const std::string& fill,
              const std::string& title = "", double opacity = 1.0);
  void cross(double cx, double cy, double r, const std::string& stroke,
             const std::string& title = "");
  void polyline(const std::vector<std::pair<double, double>>& points, const std::string& stroke,
                double width, double opacity = 1.0, const std::string& title = "");
  void polygon(const std::vector<std::pair<double, double>>& points, const std::string& fill,
               double opacity);
  void rect(double x, double y, double w, double h, const std::string& fill,
            const std::string& title = "");
  void line(double x1, double y1, double x2, double y2, const std::string& stroke,
            double width = 1.0);
  void text(double x, double y, const std::string& s, const std::string& anchor = "start",
            int size = 11, const std::string& transform = "");
  std::string str() const;

 private:
  int width_, height_;
  std::string label_;
  std::string body_;
};

/// A colour for t in [0, 1] on a perceptually ordered ramp (dark blue, teal, yellow): the
/// best values are t = 0.
std::string ramp(double t);

}  // namespace gpbo::report

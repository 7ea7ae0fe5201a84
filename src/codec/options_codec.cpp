// The option table, the options' JSON codec and their checks (gpbo/options.hpp,
// codec/options_codec.hpp). Each row knows its JSON key, its CLI flag, its type and its range;
// the checks of check_*_options run the rows' own setters, so a rule is written once.
#include "codec/options_codec.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>

#include "codec/metrics_json.hpp"
#include "common/json_text.hpp"
#include "gpbo/error.hpp"

namespace gpbo {
namespace {

using Json = nlohmann::json;

/// A number as a message shows it: "0", "1e-06", "nan", "-inf".
std::string shown(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

[[noreturn]] void bad(const std::string& key, const std::string& what) {
  throw InvalidArgument("study options: '" + key + "' " + what);
}

/// "--" + key with '.' and '_' as '-': "trust_region.length_init" -> "--trust-region-length-init".
std::string flag_for(const std::string& key) {
  std::string flag = "--" + key;
  for (char& c : flag) {
    if (c == '.' || c == '_') c = '-';
  }
  return flag;
}

template <typename T>
T parse_whole(const std::string& key, const std::string& text, const char* what) {
  T v{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end)
    bad(key, "must be " + std::string(what) + ", got '" + text + "'");
  return v;
}

OptionSpec row(std::string key, std::string field, std::string help, Json example) {
  OptionSpec s;
  s.flag = flag_for(key);
  s.key = std::move(key);
  s.field = std::move(field);
  s.help = std::move(help);
  s.example = std::move(example);
  return s;
}

// Each row reads and writes its field through `access`, a generic lambda returning a reference
// to the field of a const or a mutable OptionValues.

/// An int option in [min, max].
template <typename Access>
OptionSpec integer(std::string key, std::string field, std::string help, Access access,
                   long long min, Json example, long long max = std::numeric_limits<int>::max()) {
  OptionSpec s = row(std::move(key), std::move(field), std::move(help), std::move(example));
  const std::string k = s.key;
  const auto assign = [k, access, min, max](OptionValues& v, long long x) {
    if (x < min || x > max) {
      bad(k, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                 "], got " + std::to_string(x));
    }
    access(v) = static_cast<int>(x);
  };
  s.get = [access](const OptionValues& v) { return Json(access(v)); };
  s.set = [k, assign](OptionValues& v, const Json& j) {
    if (!j.is_number_integer()) bad(k, "must be an integer, got " + json_text(j));
    if (j.is_number_unsigned() && j.get<std::uint64_t>() > std::uint64_t(INT64_MAX)) {
      bad(k, "is out of range: " + json_text(j));
    }
    assign(v, j.get<long long>());
  };
  s.set_text = [k, assign](OptionValues& v, const std::string& t) {
    assign(v, parse_whole<long long>(k, t, "an integer"));
  };
  return s;
}

/// A std::uint64_t option (any value from 0 to 2^64 - 1).
template <typename Access>
OptionSpec unsigned64(std::string key, std::string field, std::string help, Access access,
                      Json example) {
  OptionSpec s = row(std::move(key), std::move(field), std::move(help), std::move(example));
  const std::string k = s.key;
  s.get = [access](const OptionValues& v) { return Json(access(v)); };
  s.set = [k, access](OptionValues& v, const Json& j) {
    if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<std::int64_t>() >= 0)) {
      bad(k, "must be an integer >= 0, got " + json_text(j));
    }
    access(v) = j.get<std::uint64_t>();
  };
  s.set_text = [k, access](OptionValues& v, const std::string& t) {
    access(v) = parse_whole<std::uint64_t>(k, t, "an integer >= 0");
  };
  return s;
}

/// A finite double option above `min` (or at it, unless `exclusive`).
template <typename Access>
OptionSpec real(std::string key, std::string field, std::string help, Access access, double min,
                bool exclusive, Json example) {
  OptionSpec s = row(std::move(key), std::move(field), std::move(help), std::move(example));
  const std::string k = s.key;
  const auto assign = [k, access, min, exclusive](OptionValues& v, double x) {
    if (!std::isfinite(x) || x < min || (exclusive && x == min)) {
      bad(k, std::string("must be a finite number ") + (exclusive ? "> " : ">= ") + shown(min) +
                 ", got " + shown(x));
    }
    access(v) = x;
  };
  s.get = [access](const OptionValues& v) { return Json(access(v)); };
  s.set = [k, assign](OptionValues& v, const Json& j) {
    if (!j.is_number()) bad(k, "must be a number, got " + json_text(j));
    assign(v, j.get<double>());
  };
  s.set_text = [k, assign](OptionValues& v, const std::string& t) {
    assign(v, parse_whole<double>(k, t, "a number"));
  };
  return s;
}

template <typename Access>
OptionSpec boolean(std::string key, std::string field, std::string help, Access access,
                   Json example) {
  OptionSpec s = row(std::move(key), std::move(field), std::move(help), std::move(example));
  s.is_bool = true;
  const std::string k = s.key;
  s.get = [access](const OptionValues& v) { return Json(access(v)); };
  s.set = [k, access](OptionValues& v, const Json& j) {
    if (!j.is_boolean()) bad(k, "must be true or false, got " + json_text(j));
    access(v) = j.get<bool>();
  };
  s.set_text = [k, access](OptionValues& v, const std::string& t) {
    if (t != "true" && t != "false") bad(k, "must be true or false, got '" + t + "'");
    access(v) = t == "true";
  };
  return s;
}

/// An option whose value is a name (an enum, a device): parse() throws InvalidArgument.
template <typename T, typename Access>
OptionSpec named(std::string key, std::string field, std::string help, Access access,
                 T (*parse)(const std::string&), std::string (*name)(const T&), Json example) {
  OptionSpec s = row(std::move(key), std::move(field), std::move(help), std::move(example));
  const std::string k = s.key;
  s.get = [access, name](const OptionValues& v) { return Json(name(access(v))); };
  s.set = [k, access, parse](OptionValues& v, const Json& j) {
    if (!j.is_string()) bad(k, "must be a string, got " + json_text(j));
    access(v) = parse(j.get<std::string>());
  };
  s.set_text = [access, parse](OptionValues& v, const std::string& t) { access(v) = parse(t); };
  return s;
}

/// The study's metrics: a JSON object (gpbo/metrics.hpp), JSON text on the command line.
OptionSpec metrics_row() {
  OptionSpec s = row("metrics", "study.metrics",
                     "Several metrics as JSON: {\"objectives\": [...], \"constraints\": [...]}",
                     Json::parse(R"({"objectives": [{"name": "acc", "direction": "maximize"}],
                                     "constraints": []})"));
  s.is_object = true;
  s.get = [](const OptionValues& v) { return metrics_to_json_value(v.study.metrics); };
  s.set = [](OptionValues& v, const Json& j) {
    try {
      v.study.metrics = metrics_from_json_value(j);
    } catch (const InvalidArgument& e) {
      bad("metrics", std::string("is malformed: ") + e.what());
    }
  };
  s.set_text = [set = s.set](OptionValues& v, const std::string& t) {
    const Json j = Json::parse(t, nullptr, false);
    if (j.is_discarded()) bad("metrics", "must be JSON, got '" + t + "'");
    set(v, j);
  };
  return s;
}

template <typename E>
std::string enum_name(const E& e) {
  return to_string(e);
}
std::string device_name(const Device& d) { return d.to_string(); }

std::vector<OptionSpec> make_table() {
  std::vector<OptionSpec> t;
  // ---- StudyOptions, in the order of gpbo/options.hpp
  t.push_back(named<Direction>(
      "direction", "study.direction", "minimize or maximize",
      [](auto& v) -> auto& { return v.study.direction; }, parse_direction, enum_name<Direction>,
      "maximize"));
  t.push_back(metrics_row());
  t.push_back(unsigned64(
      "seed", "study.seed", "Random seed of the study",
      [](auto& v) -> auto& { return v.study.seed; }, 7));
  t.push_back(integer(
      "n_initial", "study.n_initial", "Initial Sobol design size (0: grows with d)",
      [](auto& v) -> auto& { return v.study.n_initial; }, 0, 12));
  t.push_back(named<AcquisitionType>(
      "acquisition", "study.acquisition", "logei, ei, ucb or pi",
      [](auto& v) -> auto& { return v.study.acquisition; }, parse_acquisition,
      enum_name<AcquisitionType>, "ucb"));
  t.push_back(real(
      "ucb_beta", "study.ucb_beta", "UCB exploration weight beta (mean + sqrt(beta) sd)",
      [](auto& v) -> auto& { return v.study.ucb_beta; }, 0.0, false, 9.0));
  t.push_back(named<NoiseModel>(
      "noise", "study.noise", "auto, deterministic or noisy",
      [](auto& v) -> auto& { return v.study.noise; }, parse_noise_model, enum_name<NoiseModel>,
      "noisy"));
  t.push_back(named<BatchMethod>(
      "batch_method", "study.batch_method", "auto, greedy, qlognei or thompson",
      [](auto& v) -> auto& { return v.study.batch_method; }, parse_batch_method,
      enum_name<BatchMethod>, "thompson"));
  t.push_back(named<Strategy>(
      "strategy", "study.strategy",
      "global, trust-region or auto (trust region from 40 parameters)",
      [](auto& v) -> auto& { return v.study.strategy; }, parse_strategy, enum_name<Strategy>,
      "trust-region"));
  t.push_back(real(
      "trust_region.length_init", "study.trust_region.length_init",
      "Trust region: initial side length (unit cube)",
      [](auto& v) -> auto& { return v.study.trust_region.length_init; }, 0.0, true, 0.5));
  t.push_back(real(
      "trust_region.length_min", "study.trust_region.length_min",
      "Trust region: side length below which it restarts",
      [](auto& v) -> auto& { return v.study.trust_region.length_min; }, 0.0, true, 0.01));
  t.push_back(real(
      "trust_region.length_max", "study.trust_region.length_max",
      "Trust region: largest side length",
      [](auto& v) -> auto& { return v.study.trust_region.length_max; }, 0.0, true, 1.0));
  t.push_back(integer(
      "trust_region.success_tolerance", "study.trust_region.success_tolerance",
      "Trust region: successful batches in a row before it doubles",
      [](auto& v) -> auto& { return v.study.trust_region.success_tolerance; }, 1, 4));
  t.push_back(integer(
      "trust_region.failure_tolerance", "study.trust_region.failure_tolerance",
      "Trust region: failed batches in a row before it halves (0: TuRBO's rule)",
      [](auto& v) -> auto& { return v.study.trust_region.failure_tolerance; }, 0, 5));
  t.push_back(real(
      "trust_region.success_margin", "study.trust_region.success_margin",
      "Trust region: a success beats the region's best by this share of |best|",
      [](auto& v) -> auto& { return v.study.trust_region.success_margin; }, 0.0, false, 0.01));
  t.push_back(integer(
      "trust_region.n_candidates", "study.trust_region.n_candidates",
      "Trust region: candidates per ask (0: min(5000, max(2000, 200 d)))",
      [](auto& v) -> auto& { return v.study.trust_region.n_candidates; }, 0, 3000));
  t.push_back(integer(
      "trust_region.max_points", "study.trust_region.max_points",
      "Trust region: the local GP's most trials, nearest the centre (0: all)",
      [](auto& v) -> auto& { return v.study.trust_region.max_points; }, 0, 500));
  t.push_back(integer(
      "trust_region.auto_min_dim", "study.trust_region.auto_min_dim",
      "Strategy auto: the trust region from this many parameters up",
      [](auto& v) -> auto& { return v.study.trust_region.auto_min_dim; }, 0, 20));
  OptionSpec regions = integer(
      "trust_region.n_regions", "study.trust_region.n_regions",
      "Trust regions kept at once (TuRBO-m; more than 1 needs Thompson batches)",
      [](auto& v) -> auto& { return v.study.trust_region.n_regions; }, 1, 2, kMaxTrustRegions);
  regions.flag = "--trust-regions";
  t.push_back(std::move(regions));
  t.push_back(named<OutputWarping>(
      "output_warping", "study.output_warping", "Output warping before the GP: halfrank, log, none",
      [](auto& v) -> auto& { return v.study.output_warping; }, parse_output_warping,
      enum_name<OutputWarping>, "log"));
  t.push_back(real(
      "warp_strength", "study.warp_strength", "Strength of the log warping (> 1)",
      [](auto& v) -> auto& { return v.study.warp_strength; }, 0.0, true, 100.0));
  t.push_back(named<RobustMode>(
      "robust", "study.robust",
      "Outliers: leave implausible values out of the model (auto, on, off)",
      [](auto& v) -> auto& { return v.study.robust; }, parse_robust_mode, enum_name<RobustMode>,
      "off"));
  t.push_back(named<KernelType>(
      "kernel", "study.gp.kernel", "matern52 or rbf",
      [](auto& v) -> auto& { return v.study.gp.kernel; }, parse_kernel, enum_name<KernelType>,
      "rbf"));
  t.push_back(integer(
      "gp.n_starts", "study.gp.n_starts", "GP fit: starting points without a warm start",
      [](auto& v) -> auto& { return v.study.gp.n_starts; }, 1, 5));
  t.push_back(integer(
      "gp.max_iterations", "study.gp.max_iterations", "GP fit: L-BFGS-B iterations per start",
      [](auto& v) -> auto& { return v.study.gp.max_iterations; }, 1, 200));
  t.push_back(integer(
      "gp.warm_only_above", "study.gp.warm_only_above",
      "GP fit: from this many observations, refine only the warm start",
      [](auto& v) -> auto& { return v.study.gp.warm_only_above; }, 0, 100));
  t.push_back(integer(
      "gp.warm_max_iterations", "study.gp.warm_max_iterations",
      "GP fit: iterations of a warm-start-only refinement",
      [](auto& v) -> auto& { return v.study.gp.warm_max_iterations; }, 1, 20));
  t.push_back(integer(
      "gp.subset_above", "study.gp.subset_above",
      "GP fit: above this many observations, fit the hyperparameters on a subset (0: never)",
      [](auto& v) -> auto& { return v.study.gp.subset_above; }, 0, 5000));
  t.push_back(integer(
      "gp.subset_size", "study.gp.subset_size",
      "GP fit: observations in that subset (the best quarter, then a random sample)",
      [](auto& v) -> auto& { return v.study.gp.subset_size; }, 10, 1500));
  t.push_back(integer(
      "gp.subset_refine_iterations", "study.gp.subset_refine_iterations",
      "GP fit: L-BFGS-B steps on all observations after a subset fit",
      [](auto& v) -> auto& { return v.study.gp.subset_refine_iterations; }, 0, 5));
  t.push_back(real(
      "gp.memory_limit_gb", "study.gp.memory_limit_gb",
      "GP fit: most memory in GiB (0: three quarters of the host's or GPU's)",
      [](auto& v) -> auto& { return v.study.gp.memory_limit_gb; }, 0.0, false, 8.0));
  t.push_back(real(
      "gp.min_lengthscale", "study.gp.min_lengthscale", "GP fit: smallest lengthscale",
      [](auto& v) -> auto& { return v.study.gp.min_lengthscale; }, 0.0, true, 1e-2));
  t.push_back(real(
      "gp.max_lengthscale", "study.gp.max_lengthscale", "GP fit: largest lengthscale",
      [](auto& v) -> auto& { return v.study.gp.max_lengthscale; }, 0.0, true, 100.0));
  t.push_back(real(
      "gp.min_noise", "study.gp.min_noise", "GP fit: smallest noise variance (standardized)",
      [](auto& v) -> auto& { return v.study.gp.min_noise; }, 0.0, true, 1e-5));
  t.push_back(real(
      "gp.max_noise", "study.gp.max_noise", "GP fit: largest noise variance (standardized)",
      [](auto& v) -> auto& { return v.study.gp.max_noise; }, 0.0, true, 0.5));
  t.push_back(real(
      "gp.min_outputscale", "study.gp.min_outputscale", "GP fit: smallest outputscale",
      [](auto& v) -> auto& { return v.study.gp.min_outputscale; }, 0.0, true, 0.05));
  t.push_back(real(
      "gp.max_outputscale", "study.gp.max_outputscale", "GP fit: largest outputscale",
      [](auto& v) -> auto& { return v.study.gp.max_outputscale; }, 0.0, true, 20.0));
  t.push_back(integer(
      "optimizer.raw_samples", "study.optimizer.raw_samples",
      "Acquisition search: Sobol points scored per ask",
      [](auto& v) -> auto& { return v.study.optimizer.raw_samples; }, 1, 512));
  t.push_back(integer(
      "optimizer.perturbations_per_anchor", "study.optimizer.perturbations_per_anchor",
      "Acquisition search: perturbations scored around each anchor",
      [](auto& v) -> auto& { return v.study.optimizer.perturbations_per_anchor; }, 0, 32));
  t.push_back(integer(
      "optimizer.anchors", "study.optimizer.anchors",
      "Acquisition search: best observed points perturbed",
      [](auto& v) -> auto& { return v.study.optimizer.anchors; }, 0, 3));
  t.push_back(integer(
      "optimizer.restarts", "study.optimizer.restarts",
      "Acquisition search: best candidates refined by L-BFGS-B",
      [](auto& v) -> auto& { return v.study.optimizer.restarts; }, 0, 4));
  t.push_back(integer(
      "optimizer.refine_iterations", "study.optimizer.refine_iterations",
      "Acquisition search: L-BFGS-B iterations per refined candidate",
      [](auto& v) -> auto& { return v.study.optimizer.refine_iterations; }, 0, 50));
  t.push_back(named<Device>(
      "device", "study.device", "auto, cpu, cuda or cuda:N",
      [](auto& v) -> auto& { return v.study.device; }, Device::parse, device_name, "cpu"));
  t.push_back(named<ScorePrecision>(
      "score_precision", "study.score_precision",
      "double or float: float32 candidate scoring on a GPU (the CPU scores in double)",
      [](auto& v) -> auto& { return v.study.score_precision; }, parse_score_precision,
      enum_name<ScorePrecision>, "float"));
  OptionSpec pruner = named<PrunerRule>(
      "pruner.rule", "study.pruner.rule", "Early stopping of reported trials: median, asha or none",
      [](auto& v) -> auto& { return v.study.pruner.rule; }, parse_pruner_rule,
      enum_name<PrunerRule>, "asha");
  pruner.flag = "--pruner";
  t.push_back(std::move(pruner));
  t.push_back(integer(
      "pruner.startup_trials", "study.pruner.startup_trials",
      "Median pruner: complete trials before any pruning",
      [](auto& v) -> auto& { return v.study.pruner.startup_trials; }, 0, 10));
  t.push_back(integer(
      "pruner.warmup_steps", "study.pruner.warmup_steps",
      "Median pruner: no pruning at steps below this",
      [](auto& v) -> auto& { return v.study.pruner.warmup_steps; }, 0, 3));
  t.push_back(integer(
      "pruner.reduction_factor", "study.pruner.reduction_factor",
      "ASHA: eta, the best 1/eta of a rung go on (>= 2)",
      [](auto& v) -> auto& { return v.study.pruner.reduction_factor; }, 2, 4));
  t.push_back(integer(
      "pruner.min_resource", "study.pruner.min_resource",
      "ASHA: the step of the first rung (rungs at min_resource * eta^k)",
      [](auto& v) -> auto& { return v.study.pruner.min_resource; }, 1, 2));
  OptionSpec drift = named<DriftMode>(
      "drift.mode", "study.drift.mode",
      "An objective that changes over time: auto (a time input, re-evaluations, shift "
      "detection) or off",
      [](auto& v) -> auto& { return v.study.drift.mode; }, parse_drift_mode, enum_name<DriftMode>,
      "auto");
  drift.flag = "--drift";
  t.push_back(std::move(drift));
  t.push_back(integer(
      "drift.reevaluate_every", "study.drift.reevaluate_every",
      "Drift: every k-th trial re-evaluates the incumbent (0: never)",
      [](auto& v) -> auto& { return v.study.drift.reevaluate_every; }, 0, 5));
  t.push_back(real(
      "drift.shift_threshold", "study.drift.shift_threshold",
      "Drift: a re-evaluation whose standardized residual exceeds this is a shift",
      [](auto& v) -> auto& { return v.study.drift.shift_threshold; }, 0.0, true, 4.0));
  // ---- PersistenceOptions
  t.push_back(real(
      "lease_seconds", "persistence.lease_seconds",
      "A running trial without a heartbeat this long fails",
      [](auto& v) -> auto& { return v.persistence.lease_seconds; }, 0.0, true, 60.0));
  t.push_back(boolean(
      "requeue_expired", "persistence.requeue_expired", "Queue an expired trial's point again",
      [](auto& v) -> auto& { return v.persistence.requeue_expired; }, true));
  return t;
}

/// Runs the setter of every row whose key starts with `prefix` on the row's own value: the
/// per-field rules, for values that did not come through JSON.
void check_rows(const OptionValues& values, const std::string& prefix) {
  OptionValues scratch = values;
  for (const OptionSpec& s : option_table()) {
    if (s.key.compare(0, prefix.size(), prefix) == 0) s.set(scratch, s.get(values));
  }
}

/// Whether `key` names an object of options ("trust_region", "gp", "optimizer").
bool is_group(const std::string& key) {
  for (const OptionSpec& s : option_table()) {
    if (s.key.compare(0, key.size() + 1, key + ".") == 0) return true;
  }
  return false;
}

}  // namespace

const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> table = make_table();
  return table;
}

const OptionSpec* find_option(const std::string& key) {
  for (const OptionSpec& s : option_table()) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

Json options_to_json(const OptionValues& given) {
  // With metrics the direction written is the first objective's (with_objective_direction).
  const OptionValues values{with_objective_direction(given.study), given.persistence};
  Json out = Json::object();
  for (const OptionSpec& s : option_table()) {
    const std::size_t dot = s.key.find('.');
    if (s.is_object && s.get(values).empty()) continue;  // the classic study's stored form
    if (dot == std::string::npos) {
      out[s.key] = s.get(values);
    } else {
      out[s.key.substr(0, dot)][s.key.substr(dot + 1)] = s.get(values);
    }
  }
  return out;
}

void options_from_json(const Json& j, OptionValues* values) {
  if (!j.is_object())
    throw InvalidArgument("study options must be a JSON object, got " + json_text(j));
  OptionValues v = *values;
  for (const auto& [key, value] : j.items()) {
    if (const OptionSpec* s = find_option(key)) {
      s->set(v, value);
      continue;
    }
    if (!is_group(key)) throw InvalidArgument("study options: unknown key '" + key + "'");
    if (!value.is_object()) {
      throw InvalidArgument("study options: '" + key + "' must be an object, got " +
                            json_text(value));
    }
    for (const auto& [member, mv] : value.items()) {
      const OptionSpec* s = find_option(key + "." + member);
      if (!s) throw InvalidArgument("study options: unknown key '" + key + "." + member + "'");
      s->set(v, mv);
    }
  }
  if (j.contains("direction") && j.contains("metrics")) {
    set_direction(&v.study, v.study.direction);  // the two must agree
  }
  check_study_options(v.study);
  check_persistence_options(v.persistence);
  *values = std::move(v);
}

// ---------------------------------------------------------------- gpbo/options.hpp

void set_direction(StudyOptions* options, Direction d) {
  if (!options->metrics.empty() && options->metrics.objectives.front().direction != d) {
    throw InvalidArgument("study options: the direction is " + to_string(d) +
                          " but the first objective, '" + options->metrics.objectives.front().name +
                          "', is to " + to_string(options->metrics.objectives.front().direction) +
                          " (with metrics, each objective carries its direction)");
  }
  options->direction = d;
}

StudyOptions with_objective_direction(StudyOptions options) {
  if (!options.metrics.empty()) options.direction = options.metrics.objectives.front().direction;
  return options;
}

std::string study_options_to_json(const StudyOptions& options,
                                  const PersistenceOptions& persistence) {
  return options_to_json(OptionValues{options, persistence}).dump();
}

void study_options_from_json(const std::string& text, StudyOptions* options,
                             PersistenceOptions* persistence) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {
    throw InvalidArgument(std::string("study options: malformed JSON: ") + e.what());
  }
  OptionValues v{*options, *persistence};
  options_from_json(j, &v);
  *options = std::move(v.study);
  *persistence = std::move(v.persistence);
}

void check_trust_region_options(const TrustRegionOptions& tr) {
  OptionValues v;
  v.study.trust_region = tr;
  check_rows(v, "trust_region.");
  if (!(tr.length_min <= tr.length_init && tr.length_init <= tr.length_max)) {
    throw InvalidArgument(
        "study options: the trust region needs length_min <= length_init <= length_max");
  }
}

void check_gp_options(const GpOptions& gp) {
  OptionValues v;
  v.study.gp = gp;
  check_rows(v, "gp.");
  if (!(gp.min_lengthscale <= gp.max_lengthscale && gp.min_noise <= gp.max_noise &&
        gp.min_outputscale <= gp.max_outputscale)) {
    throw InvalidArgument(
        "study options: the GP's bounds need min_lengthscale <= max_lengthscale, min_noise <= "
        "max_noise and min_outputscale <= max_outputscale");
  }
}

void check_study_options(const StudyOptions& o) {
  OptionValues v;
  v.study = o;
  check_rows(v, "");
  check_trust_region_options(o.trust_region);
  check_gp_options(o.gp);
  if (!o.metrics.empty()) {
    const bool metric_model = o.metrics.multi_objective() || !o.metrics.constraints.empty();
    if (o.metrics.multi_objective() && o.strategy == Strategy::kTrustRegion) {
      throw InvalidArgument(
          "study options: the trust region serves one objective (with or without outcome "
          "constraints); with several objectives the strategy is global");
    }
    if (metric_model && o.trust_region.n_regions > 1) {
      throw InvalidArgument(
          "study options: several trust regions serve one objective without outcome "
          "constraints; with constraints use one region (SCBO)");
    }
    if (!o.metrics.constraints.empty() && o.acquisition == AcquisitionType::kUCB) {
      throw InvalidArgument(
          "study options: ucb cannot be weighted by a probability of feasibility; with outcome "
          "constraints use logei, ei or pi");
    }
    if (o.batch_method == BatchMethod::kQLogNei) {
      throw InvalidArgument(
          "study options: batch_method qlognei is for one objective without constraints; with "
          "metrics use auto, greedy or thompson");
    }
  }
  if (o.drift.mode != DriftMode::kOff) {
    if (!o.metrics.empty() && (o.metrics.multi_objective() || !o.metrics.constraints.empty())) {
      throw InvalidArgument(
          "study options: drift serves one objective without outcome constraints; with several "
          "objectives or constraints set drift to off");
    }
  }
  if (o.trust_region.n_regions > 1 && o.batch_method != BatchMethod::kAuto &&
      o.batch_method != BatchMethod::kThompson) {
    throw InvalidArgument(
        "study options: several trust regions split a batch by Thompson sampling; "
        "batch_method must be auto or thompson, not " +
        to_string(o.batch_method));
  }
}

void check_persistence_options(const PersistenceOptions& p) {
  OptionValues v;
  v.persistence = p;
  check_rows(v, "lease_seconds");
  check_rows(v, "requeue_expired");
}

void check_warm_model_options(const WarmModelOptions& options) {
  if (!(options.refit_growth >= 0.0) || !std::isfinite(options.refit_growth) ||
      options.refit_every < 1) {
    throw InvalidArgument("warm model: refit_growth must be >= 0 and refit_every >= 1");
  }
}

}  // namespace gpbo

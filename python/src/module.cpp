// gpbo._gpbo: the C++ engine for Python (nanobind). Deliberately thin: studies, stores and
// services cross the boundary as the JSON forms every front door uses (space, options, trial,
// params: src/codec, src/space/params_json), so Python gets the same validation and the same
// errors as the CLI, the server and the C API; the Python package (python/gpbo) wraps them in
// classes. The GIL is released while an ask, a fit or a store call runs.
#include <nanobind/eigen/dense.h>
#include <nanobind/nanobind.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "codec/metrics_json.hpp"
#include "codec/trial_json.hpp"
#include "codec/warm_start_json.hpp"
#include "common/clock.hpp"
#include "common/json_text.hpp"
#include "gpbo/error.hpp"
#include "gpbo/options.hpp"
#include "gpbo/report.hpp"
#include "gpbo/space.hpp"
#include "gpbo/study.hpp"
#include "service/remote_study_service.hpp"
#include "service/study_json.hpp"
#include "service/study_service.hpp"
#include "service/warm_start_request.hpp"
#include "space/params_json.hpp"

namespace nb = nanobind;
using nlohmann::json;

namespace {

using Release = nb::gil_scoped_release;

json parse(const std::string& text, const char* what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw gpbo::InvalidArgument(std::string(what) + ": malformed JSON");
  return j;
}

std::string text(const json& j) { return gpbo::json_text(j); }

/// The engine's options from their JSON object (the option table's form).
gpbo::StudyOptions study_options(const std::string& options_json,
                                 gpbo::PersistenceOptions* persistence = nullptr) {
  gpbo::StudyOptions o;
  gpbo::PersistenceOptions p;
  gpbo::study_options_from_json(options_json, &o, &p);
  if (persistence != nullptr) *persistence = p;
  return o;
}

/// A Study for Python: the engine's Study is not thread-safe, and calls run without the GIL.
struct PyStudy {
  PyStudy(const std::string& space_json, const std::string& options_json)
      : study(gpbo::Space::from_json(space_json), study_options(options_json)) {}
  std::mutex mutex;
  gpbo::Study study;

  template <typename F>
  auto locked(F&& f) {
    Release release;
    std::lock_guard<std::mutex> lock(mutex);
    return f(study);
  }
};

/// A study service (a store, or a gpbo serve endpoint) for Python; the services are
/// thread-safe.
struct PyService {
  std::shared_ptr<gpbo::service::StudyService> api;
};

gpbo::Params params_of(const gpbo::Study& s, const std::string& params_json) {
  return gpbo::params_from_json(parse(params_json, "params"), s.space());
}

// An ask's fixed values: "" for none, else a JSON object of name: value.
json fixed_of(const std::string& fixed_json) {
  if (fixed_json.empty()) return json::object();
  json j = parse(fixed_json, "fixed");
  if (!j.is_object())
    throw gpbo::InvalidArgument("fixed must be a mapping of names to values, got " + j.dump());
  return j;
}

}  // namespace

NB_MODULE(_gpbo, m) {
  m.doc() = "gpbo's C++ engine (use the gpbo package, not this module)";
  m.attr("__version__") = "0.1.0";

  // ---- errors: gpbo.Error and one subclass per C++ type (the most derived is tried first)
  static nb::exception<gpbo::Error> error(m, "Error");
  static nb::exception<gpbo::InvalidArgument> invalid(m, "InvalidArgument", error);
  static nb::exception<gpbo::NotFound> not_found(m, "NotFound", error);
  static nb::exception<gpbo::Conflict> conflict(m, "Conflict", error);
  static nb::exception<gpbo::NumericalError> numerical(m, "NumericalError", error);
  static nb::exception<gpbo::BackendUnavailable> backend(m, "BackendUnavailable", error);
  static nb::exception<gpbo::StorageError> storage(m, "StorageError", error);

  // ---- spaces and options, through their JSON forms
  m.def("space_canonical",
        [](const std::string& space_json) { return gpbo::Space::from_json(space_json).to_json(); });
  m.def("space_encoded_dim", [](const std::string& space_json) {
    return gpbo::Space::from_json(space_json).encoded_dim();
  });
  m.def("options_canonical", [](const std::string& options_json) {
    gpbo::PersistenceOptions p;
    const gpbo::StudyOptions o = study_options(options_json, &p);
    return gpbo::study_options_to_json(o, p);
  });

  // ---- a study in this process
  nb::class_<PyStudy>(m, "Study")
      .def(nb::init<const std::string&, const std::string&>(), nb::arg("space_json"),
           nb::arg("options_json"))
      .def(
          "ask",
          [](PyStudy& s, int q, const std::string& fixed_json) {
            const json fixed = fixed_of(fixed_json);
            return text(gpbo::trials_to_json(s.locked([&](gpbo::Study& st) {
              return st.ask(q, gpbo::decode_params(fixed, &st.space()));
            })));
          },
          nb::arg("q"), nb::arg("fixed_json") = "")
      .def("tell",
           [](PyStudy& s, std::int64_t id, double value, bool skip) {
             return text(gpbo::trial_to_json(
                 s.locked([&](gpbo::Study& st) { return st.tell(id, value, skip); })));
           })
      .def("tell_values",
           [](PyStudy& s, std::int64_t id, const std::string& values_json, bool skip) {
             const gpbo::MetricValues values =
                 gpbo::metric_values_from_json(parse(values_json, "values"));
             return text(gpbo::trial_to_json(
                 s.locked([&](gpbo::Study& st) { return st.tell(id, values, skip); })));
           })
      .def("tell_state",
           [](PyStudy& s, std::int64_t id, const std::string& state, bool skip) {
             const gpbo::TrialState st = gpbo::parse_trial_state(state);
             return text(gpbo::trial_to_json(
                 s.locked([&](gpbo::Study& study) { return study.tell_state(id, st, skip); })));
           })
      .def("enqueue",
           [](PyStudy& s, const std::string& params_json) {
             s.locked([&](gpbo::Study& st) {
               st.enqueue(params_of(st, params_json));
               return 0;
             });
           })
      .def("add_trial",
           [](PyStudy& s, const std::string& params_json, const std::string& state,
              std::optional<double> value, const std::string& source) {
             const gpbo::TrialState st = gpbo::parse_trial_state(state);
             return s.locked([&](gpbo::Study& study) {
               return study.add_trial(params_of(study, params_json), st, value, source);
             });
           })
      .def("add_trial_values",
           [](PyStudy& s, const std::string& params_json, const std::string& values_json,
              const std::string& source) {
             const gpbo::MetricValues values =
                 gpbo::metric_values_from_json(parse(values_json, "values"));
             return s.locked([&](gpbo::Study& study) {
               return study.add_trial(params_of(study, params_json), gpbo::TrialState::kComplete,
                                      values, source);
             });
           })
      .def("pareto",
           [](PyStudy& s) {
             return s.locked([](gpbo::Study& st) {
               return text(gpbo::service::pareto_to_json(st.pareto(), st.options().metrics));
             });
           })
      .def("outliers",
           [](PyStudy& s) { return s.locked([](gpbo::Study& st) { return st.outliers(); }); })
      .def("drift",
           [](PyStudy& s) {
             return s.locked([](gpbo::Study& st) {
               return text(gpbo::service::drift_to_json(st.options().drift, st.drift_checks()));
             });
           })
      .def("reseed",
           [](PyStudy& s, std::uint64_t stream) {
             s.locked([&](gpbo::Study& st) {
               st.reseed(stream);
               return 0;
             });
           })
      .def("best",
           [](PyStudy& s) -> std::optional<std::string> {
             const auto best = s.locked([](gpbo::Study& st) { return st.best(); });
             if (!best) return std::nullopt;
             return text(gpbo::trial_to_json(*best));
           })
      .def("trials",
           [](PyStudy& s) {
             return text(
                 gpbo::trials_to_json(s.locked([](gpbo::Study& st) { return st.trials(); })));
           })
      .def("trial",
           [](PyStudy& s, std::int64_t id) {
             return text(
                 gpbo::trial_to_json(s.locked([&](gpbo::Study& st) { return st.trial(id); })));
           })
      .def("options",
           [](PyStudy& s) {
             return s.locked(
                 [](gpbo::Study& st) { return gpbo::study_options_to_json(st.options()); });
           })
      .def(
          "space",
          [](PyStudy& s) { return s.locked([](gpbo::Study& st) { return st.space().to_json(); }); })
      .def("n_initial",
           [](PyStudy& s) { return s.locked([](gpbo::Study& st) { return st.n_initial(); }); })
      .def("device",
           [](PyStudy& s) {
             return s.locked([](gpbo::Study& st) { return st.device().to_string(); });
           })
      .def("ask_seconds",
           [](PyStudy& s) { return s.locked([](gpbo::Study& st) { return st.ask_seconds(); }); })
      .def("last_ask_split",
           [](PyStudy& s) {
             const gpbo::AskSplit a = s.locked([](gpbo::Study& st) { return st.last_ask_split(); });
             return std::map<std::string, double>{{"fit", a.fit},
                                                  {"factor", a.factor},
                                                  {"acquisition", a.acquisition},
                                                  {"total", a.total}};
           })
      .def("warm_start",
           [](PyStudy& s) -> std::optional<std::pair<Eigen::VectorXd, Eigen::Vector3d>> {
             const auto h = s.locked([](gpbo::Study& st) { return st.warm_start(); });
             if (!h) return std::nullopt;
             return std::make_pair(h->lengthscales,
                                   Eigen::Vector3d(h->outputscale, h->noise, h->mean));
           })
      .def("set_warm_start",
           [](PyStudy& s, const Eigen::VectorXd& lengthscales, const Eigen::Vector3d& rest) {
             gpbo::GpHyperparameters h;
             h.lengthscales = lengthscales;
             h.outputscale = rest(0);
             h.noise = rest(1);
             h.mean = rest(2);
             s.locked([&](gpbo::Study& st) {
               st.set_warm_start(h);
               return 0;
             });
           })
      .def("report_value",
           [](PyStudy& s, std::int64_t id, std::int64_t step, double value) {
             return s.locked([&](gpbo::Study& st) { return st.report(id, step, value).prune; });
           })
      .def("should_prune",
           [](PyStudy& s, std::int64_t id) {
             return s.locked([&](gpbo::Study& st) { return st.should_prune(id); });
           })
      .def("cost",
           [](PyStudy& s) {
             const double now = gpbo::now_seconds();
             return text(gpbo::service::cost_to_json(
                 s.locked([&](gpbo::Study& st) { return gpbo::study_cost(st.trials(), now); })));
           })
      .def("warm_start_from",
           [](PyStudy& s, const std::string& sources_json) {
             const json j = json::parse(sources_json, nullptr, false);
             if (j.is_discarded() || !j.is_array()) {
               throw gpbo::InvalidArgument("warm_start_from: a JSON array of sources is needed");
             }
             std::vector<gpbo::WarmStartSource> sources;
             for (const json& item : j) sources.push_back(gpbo::warm_start_source_from_json(item));
             s.locked([&](gpbo::Study& st) {
               st.warm_start_from(sources);
               return 0;
             });
           })
      .def(
          "transfer_weight",
          [](PyStudy& s) { return s.locked([](gpbo::Study& st) { return st.transfer_weight(); }); })
      .def("report",
           [](PyStudy& s, const std::string& name) {
             return s.locked([&](gpbo::Study& st) { return gpbo::render_report(st, name); });
           })
      .def("fix_hyperparameters",
           [](PyStudy& s, const Eigen::VectorXd& lengthscales, const Eigen::Vector3d& rest) {
             gpbo::GpHyperparameters h;
             h.lengthscales = lengthscales;
             h.outputscale = rest(0);
             h.noise = rest(1);
             h.mean = rest(2);
             s.locked([&](gpbo::Study& st) {
               st.fix_hyperparameters(h);
               return 0;
             });
           })
      .def("encode",
           [](PyStudy& s, const std::string& params_json) {
             return s.locked([&](gpbo::Study& st) {
               return Eigen::VectorXd(st.space().encode(params_of(st, params_json)));
             });
           })
      .def("ask_array", [](PyStudy& s, int q) {
        return s.locked([&](gpbo::Study& st) {
          const std::vector<gpbo::Trial> trials = st.ask(q);
          std::vector<std::int64_t> ids;
          Eigen::MatrixXd X(static_cast<Eigen::Index>(trials.size()), st.space().encoded_dim());
          for (std::size_t i = 0; i < trials.size(); ++i) {
            ids.push_back(trials[i].id);
            X.row(static_cast<Eigen::Index>(i)) = st.space().encode(trials[i].params).transpose();
          }
          return std::make_pair(ids, X);
        });
      });

  // ---- a study service: a store or a gpbo serve endpoint
  nb::class_<PyService>(m, "Service")
      .def_static(
          "local",
          [](const std::string& url, bool warm) {
            std::optional<gpbo::WarmModelOptions> w;
            if (warm) w = gpbo::WarmModelOptions{};
            Release release;
            return PyService{
                std::make_shared<gpbo::service::LocalStudyService>(gpbo::Storage::open(url), w)};
          },
          nb::arg("url"), nb::arg("warm_model") = false)
      .def_static(
          "remote",
          [](const std::string& url, const std::string& token, double timeout,
             const std::string& ca_file, bool insecure_http, const std::string& worker_id) {
            gpbo::service::RemoteOptions o;
            o.timeout_seconds = timeout;
            o.ca_file = ca_file;
            o.insecure_http = insecure_http;
            o.worker_id = worker_id;
            return PyService{std::make_shared<gpbo::service::RemoteStudyService>(url, token, o)};
          },
          nb::arg("url"), nb::arg("token") = "", nb::arg("timeout") = 300.0,
          nb::arg("ca_file") = "", nb::arg("insecure_http") = false, nb::arg("worker_id") = "")
      .def(
          "create_study",
          [](PyService& s, const std::string& name, const std::string& space_json,
             const std::string& options_json, const std::string& warm_start_json) {
            gpbo::PersistenceOptions p;
            const gpbo::StudyOptions o = study_options(options_json, &p);
            const gpbo::Space space = gpbo::Space::from_json(space_json);
            gpbo::service::WarmStartRequest warm;
            if (!warm_start_json.empty()) {
              const json w = json::parse(warm_start_json, nullptr, false);
              if (w.is_discarded()) throw gpbo::InvalidArgument("warm_start: malformed JSON");
              warm = gpbo::service::warm_start_request_from_json(w);
            }
            Release release;
            return text(gpbo::service::study_to_json(
                warm.empty() ? s.api->create_study(name, space, o, p)
                             : s.api->create_warm_started_study(name, space, o, p, warm)));
          },
          nb::arg("name"), nb::arg("space_json"), nb::arg("options_json"),
          nb::arg("warm_start_json") = "")
      .def("get_study",
           [](PyService& s, const std::string& name) {
             gpbo::StudyInfo info;
             {
               Release release;
               info = s.api->get_study(name);
             }
             return text(gpbo::service::study_to_json(info));
           })
      .def("list_studies",
           [](PyService& s) {
             std::vector<gpbo::StudyInfo> all;
             {
               Release release;
               all = s.api->list_studies();
             }
             json arr = json::array();
             for (const gpbo::StudyInfo& i : all) arr.push_back(gpbo::service::study_to_json(i));
             return text(json{{"studies", arr}});
           })
      .def("delete_study",
           [](PyService& s, const std::string& name) {
             Release release;
             s.api->delete_study(name);
           })
      .def(
          "ask",
          [](PyService& s, const std::string& study, int q, const std::string& worker,
             const std::string& fixed_json) {
            const json fixed = fixed_of(fixed_json);
            Release release;
            return text(gpbo::trials_to_json(s.api->ask(study, q, worker, fixed)));
          },
          nb::arg("study"), nb::arg("q"), nb::arg("worker"), nb::arg("fixed_json") = "")
      .def("tell",
           [](PyService& s, const std::string& study, std::int64_t id, double value, bool skip) {
             Release release;
             return text(gpbo::trial_to_json(s.api->tell(study, id, value, skip)));
           })
      .def("tell_values",
           [](PyService& s, const std::string& study, std::int64_t id,
              const std::string& values_json, bool skip) {
             const gpbo::MetricValues values =
                 gpbo::metric_values_from_json(parse(values_json, "values"));
             Release release;
             return text(gpbo::trial_to_json(s.api->tell_values(study, id, values, skip)));
           })
      .def("pareto",
           [](PyService& s, const std::string& study) {
             Release release;
             gpbo::StudyOptions options;
             gpbo::PersistenceOptions persistence;
             gpbo::study_options_from_json(s.api->get_study(study).options_json, &options,
                                           &persistence);
             return text(gpbo::service::pareto_to_json(s.api->pareto(study), options.metrics));
           })
      .def("outliers",
           [](PyService& s, const std::string& study) {
             Release release;
             return s.api->outliers(study);
           })
      .def("drift",
           [](PyService& s, const std::string& study) {
             Release release;
             return text(s.api->drift(study));
           })
      .def("tell_state",
           [](PyService& s, const std::string& study, std::int64_t id, const std::string& state,
              bool skip) {
             const gpbo::TrialState st = gpbo::parse_trial_state(state);
             Release release;
             return text(gpbo::trial_to_json(s.api->tell_state(study, id, st, skip)));
           })
      .def("heartbeat",
           [](PyService& s, const std::string& study, std::int64_t id) {
             Release release;
             return text(gpbo::trial_to_json(s.api->heartbeat(study, id)));
           })
      .def("report_value",
           [](PyService& s, const std::string& study, std::int64_t id, std::int64_t step,
              double value) {
             Release release;
             return s.api->report_value(study, id, step, value).prune;
           })
      .def("should_prune",
           [](PyService& s, const std::string& study, std::int64_t id) {
             Release release;
             return s.api->should_prune(study, id);
           })
      .def("cost",
           [](PyService& s, const std::string& study) {
             Release release;
             return text(gpbo::service::cost_to_json(s.api->cost(study)));
           })
      .def("enqueue",
           [](PyService& s, const std::string& study, const std::string& params_json) {
             const json params = parse(params_json, "params");
             Release release;
             s.api->enqueue(study, params);
           })
      .def("add_trials",
           [](PyService& s, const std::string& study, const std::string& trials_json) {
             const json j = parse(trials_json, "trials");
             Release release;
             const gpbo::Space space = gpbo::Space::from_json(s.api->get_study(study).space_json);
             return text(gpbo::trials_to_json(
                 s.api->add_trials(study, gpbo::finished_trials_from_json(j, &space))));
           })
      .def("best",
           [](PyService& s, const std::string& study) -> std::optional<std::string> {
             std::optional<gpbo::Trial> best;
             {
               Release release;
               best = s.api->best(study);
             }
             if (!best) return std::nullopt;
             return text(gpbo::trial_to_json(*best));
           })
      .def("trials",
           [](PyService& s, const std::string& study) {
             Release release;
             return text(gpbo::trials_to_json(s.api->trials(study)));
           })
      .def("trial",
           [](PyService& s, const std::string& study, std::int64_t id) {
             Release release;
             return text(gpbo::trial_to_json(s.api->trial(study, id)));
           })
      .def("report",
           [](PyService& s, const std::string& study) {
             Release release;
             return s.api->report(study);
           })
      .def("log",
           [](PyService& s, const std::string& study) {
             Release release;
             return text(gpbo::service::log_to_json(s.api->log(study)));
           })
      .def("verify", [](PyService& s, const std::string& study) {
        Release release;
        return text(gpbo::service::verify_report_to_json(s.api->verify(study)));
      });
}

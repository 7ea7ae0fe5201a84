/// The in-memory store: copy-on-write transactions under one mutex.
#include "storage/memory_storage.hpp"

#include <optional>
#include <utility>

#include "gpbo/error.hpp"
#include "storage/storage_common.hpp"

namespace gpbo {
namespace {

using storage_detail::check_json;
using storage_detail::check_log_entry;
using storage_detail::check_trial;
using storage_detail::params_from_json;

/// A transaction over one study. Reads go to the committed data until the first write copies
/// the trials; commit() moves the copies into the study.
class MemoryTransaction final : public StudyTransaction {
 public:
  MemoryTransaction(const MemoryStorage::StudyData& base, bool writable)
      : base_(base), info_(base.info), writable_(writable) {}

  const StudyInfo& study() const override { return info_; }

  std::vector<Trial> trials() override { return current(); }

  void insert_trial(const Trial& trial) override {
    require_writable("insert_trial");
    Trial stored = canonical(trial);
    const auto next = static_cast<std::int64_t>(current().size());
    if (trial.id != next) {
      throw Conflict("study '" + info_.name + "': cannot insert trial " + std::to_string(trial.id) +
                     ", the next free number is " + std::to_string(next));
    }
    mutable_trials().push_back(std::move(stored));
  }

  void update_trial(const Trial& trial) override {
    require_writable("update_trial");
    Trial stored = canonical(trial);
    if (trial.id >= static_cast<std::int64_t>(current().size())) {
      throw NotFound("study '" + info_.name + "': no trial " + std::to_string(trial.id));
    }
    mutable_trials()[static_cast<std::size_t>(trial.id)] = std::move(stored);
  }

  void set_state_json(const std::string& state_json) override {
    require_writable("set_state_json");
    check_json(state_json, "study '" + info_.name + "': state_json");
    info_.state_json = state_json;
  }

  void append_log(const LogEntry& entry) override {
    require_writable("append_log");
    check_log_entry(entry, info_.name);
    const LogEntry* previous = !log_.empty()        ? &log_.back()
                               : !base_.log.empty() ? &base_.log.back()
                                                    : nullptr;
    log_.push_back(storage_detail::chained_entry(info_.name, entry, previous));
  }

  std::vector<LogEntry> log() override {
    std::vector<LogEntry> out = base_.log;
    out.insert(out.end(), log_.begin(), log_.end());
    return out;
  }

  /// Makes the transaction's writes the study's data.
  void commit(MemoryStorage::StudyData& data) {
    data.info = std::move(info_);
    if (trials_) data.trials = std::move(*trials_);
    data.log.insert(data.log.end(), std::make_move_iterator(log_.begin()),
                    std::make_move_iterator(log_.end()));
  }

 private:
  void require_writable(const char* op) const {
    if (!writable_) {
      throw StorageError("study '" + info_.name + "': " + op + " in a read-only transaction");
    }
  }

  // Runs the params through their stored JSON form, exactly as the SQLite store does, so both
  // stores accept the same trials and give back identically typed values.
  Trial canonical(const Trial& trial) const {
    Trial stored = trial;
    stored.params = params_from_json(check_trial(trial, base_.space, info_.name), base_.space);
    return stored;
  }

  const std::vector<Trial>& current() const { return trials_ ? *trials_ : base_.trials; }

  std::vector<Trial>& mutable_trials() {
    if (!trials_) trials_ = base_.trials;
    return *trials_;
  }

  const MemoryStorage::StudyData& base_;
  StudyInfo info_;
  bool writable_;
  std::optional<std::vector<Trial>> trials_;
  std::vector<LogEntry> log_;
};

}  // namespace

MemoryStorage::Lock::Lock(MemoryStorage& storage) : storage_(storage) {
  if (storage_.owner_.load() == std::this_thread::get_id()) {
    throw StorageError("memory storage: called from inside its own write() or read()");
  }
  storage_.mutex_.lock();
  storage_.owner_.store(std::this_thread::get_id());
}

MemoryStorage::Lock::~Lock() {
  storage_.owner_.store(std::thread::id());
  storage_.mutex_.unlock();
}

MemoryStorage::StudyData& MemoryStorage::find(const std::string& study) {
  const auto it = studies_.find(study);
  if (it == studies_.end()) throw NotFound("study '" + study + "' does not exist");
  return it->second;
}

void MemoryStorage::create_study(const StudyInfo& info) {
  StudyData data;
  data.info = storage_detail::prepare_new_study(info);
  data.space = Space::from_json(data.info.space_json);
  data.log.push_back(storage_detail::chained_entry(
      info.name, storage_detail::create_log_entry(data.info), nullptr));
  Lock lock(*this);
  if (studies_.count(info.name) != 0) {
    throw Conflict("study '" + info.name + "' already exists");
  }
  studies_.emplace(info.name, std::move(data));
}

std::vector<StudyInfo> MemoryStorage::list_studies() {
  Lock lock(*this);
  std::vector<StudyInfo> out;
  out.reserve(studies_.size());
  for (const auto& entry : studies_) out.push_back(entry.second.info);
  return out;
}

void MemoryStorage::delete_study(const std::string& name) {
  Lock lock(*this);
  find(name);
  studies_.erase(name);
}

void MemoryStorage::write(const std::string& study,
                          const std::function<void(StudyTransaction&)>& fn) {
  Lock lock(*this);
  StudyData& data = find(study);
  MemoryTransaction transaction(data, /*writable=*/true);
  fn(transaction);
  transaction.commit(data);
}

void MemoryStorage::read(const std::string& study,
                         const std::function<void(StudyTransaction&)>& fn) {
  Lock lock(*this);
  MemoryTransaction transaction(find(study), /*writable=*/false);
  fn(transaction);
}

std::vector<LogEntry> MemoryStorage::log(const std::string& study) {
  Lock lock(*this);
  return find(study).log;
}

}  // namespace gpbo

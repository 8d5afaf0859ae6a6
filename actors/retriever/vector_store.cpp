#include "actors/retriever/vector_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <future>
#include <limits>
#include <unordered_set>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hnswlib/hnswlib.h>

#include "actors/retriever/wal_codec.hpp"
#include "monitoring/log.hpp"
#include "runtime/errors.hpp"

namespace opea::actors {

using runtime::errc;
using runtime::make_error;
using json = nlohmann::json;

namespace {

constexpr uint32_t store_format = 1;
constexpr char chunks_magic[8] = {'O', 'P', 'E', 'A', 'C', 'H', 'K', '1'};
/// A log record larger than this is treated as garbage (a torn length).
constexpr uint32_t max_record_bytes = uint32_t{1} << 30;
constexpr size_t max_results = 10000;

enum class record_type : uint8_t { add = 1, remove_ids = 2, remove_source = 3, clear = 4 };

/// errc::bad_request naming `field` unless 1 <= n <= max_results.
caf::error check_count(const char* field, size_t n) {
  if (n >= 1 && n <= max_results) return {};
  return make_error(errc::bad_request, field,
                    "must be in [1, " + std::to_string(max_results) + "]");
}

caf::error io_error(const std::string& what, const std::string& file) {
  return make_error(errc::service_failed, "vector store " + file,
                    what + ": " + std::strerror(errno));
}

caf::error corrupt(const std::string& file, const std::string& why) {
  return make_error(errc::service_failed, "vector store " + file, "corrupt: " + why);
}

bool write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    auto w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

/// Writes `data` to `file` and fsyncs it.
caf::expected<void> write_file_synced(const std::string& file, const std::string& data) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", file);
  bool ok = write_all(fd, data.data(), data.size()) && ::fsync(fd) == 0;
  auto saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) return io_error("cannot write", file);
  return caf::unit;
}

caf::expected<void> fsync_path(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", file);
  bool ok = ::fsync(fd) == 0;
  auto saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) return io_error("cannot fsync", file);
  return caf::unit;
}

caf::expected<std::string> read_file(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", file);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    auto r = ::read(fd, buf, sizeof(buf));
    if (r < 0) {
      if (errno == EINTR) continue;
      auto saved = errno;
      ::close(fd);
      errno = saved;
      return io_error("cannot read", file);
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return out;
}

bool exists(const std::string& file) {
  struct stat st;
  return ::stat(file.c_str(), &st) == 0;
}

caf::expected<void> make_dirs(const std::string& dir) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    cur = dir.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return io_error("cannot create", cur);
  }
  return caf::unit;
}

std::string numbered(const char* prefix, size_t generation, const char* suffix) {
  return prefix + std::to_string(generation) + suffix;
}

/// Validates and normalises `v` in place; an empty string when fine.
std::string normalise(std::vector<float>& v) {
  double sum = 0;
  for (auto x : v) {
    if (!std::isfinite(x)) return "has a non-finite value";
    sum += static_cast<double>(x) * x;
  }
  if (sum == 0) return "is a zero vector";
  auto inv = 1.0 / std::sqrt(sum);
  for (auto& x : v) x = static_cast<float>(x * inv);
  return {};
}

float dot(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(s);
}

std::string source_of(const json& metadata) {
  auto i = metadata.find("source");
  return i != metadata.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

}  // namespace

// -- construction and loading -------------------------------------------------

vector_store::vector_store(std::string dir, vector_store_options opts)
    : dir_(std::move(dir)), opts_(opts) {}

vector_store::~vector_store() {
  stop_lexical();
  if (log_fd_ >= 0) ::close(log_fd_);
}

struct vector_store::record {
  record_type type = record_type::clear;
  /// add: the source replaced (may be empty); remove_source: the source.
  std::string source;
  /// add: the chunks and their unit vectors.
  std::vector<std::pair<entry, std::vector<float>>> items;
  /// remove_ids: the ids.
  std::vector<std::string> ids;
};

std::string vector_store::path(const std::string& file) const {
  return dir_ + "/" + file;
}

caf::expected<std::shared_ptr<vector_store>> vector_store::open(const std::string& data_dir,
                                                                const std::string& index_name,
                                                                vector_store_options opts) {
  if (index_name.empty() || index_name.find('/') != std::string::npos || index_name == "." ||
      index_name == "..")
    return make_error(errc::bad_request, "index_name",
                      "'" + index_name + "' is not a valid index name (one path segment)");
  if (data_dir.empty()) return make_error(errc::bad_request, "data_dir", "must not be empty");
  if (opts.m < 2 || opts.ef_construction == 0 || opts.ef_search == 0 || opts.initial_capacity == 0)
    return make_error(errc::bad_request, "vector store options",
                      "m must be >= 2 and ef_construction, ef_search, initial_capacity > 0");
  std::shared_ptr<vector_store> store{new vector_store(data_dir + "/" + index_name, opts)};
  if (auto res = store->load(); !res) return std::move(res.error());
  if (opts.lexical)
    store->lexical_thread_ = std::thread{[raw = store.get()] { raw->lexical_worker(); }};
  return store;
}

caf::expected<void> vector_store::load() {
  if (auto res = make_dirs(dir_); !res) return res;
  auto current = path("CURRENT");
  if (!exists(current)) {
    if (opts_.dimension > 0) return initialize(opts_.dimension);
    // Dimension fixed by the first batch; until then an empty lexical index
    // (whatever lexical/ holds belongs to no log).
    if (opts_.lexical) return open_lexical(true);
    return caf::unit;
  }
  auto text = read_file(current);
  if (!text) return std::move(text.error());
  auto doc = json::parse(*text, nullptr, false);
  if (!doc.is_object() || !doc.contains("format") || !doc.contains("dimension") ||
      !doc.contains("generation") || !doc["dimension"].is_number_unsigned() ||
      !doc["generation"].is_number_unsigned())
    return corrupt(current, "not a CURRENT file");
  if (doc["format"] != store_format)
    return corrupt(current, "unsupported format " + doc["format"].dump());
  auto dim = doc["dimension"].get<size_t>();
  if (dim == 0) return corrupt(current, "dimension 0");
  if (opts_.dimension != 0 && opts_.dimension != dim)
    return make_error(errc::bad_request, "vector store " + dir_,
                      "dimension mismatch: the store holds vectors of dimension " +
                          std::to_string(dim) + ", the configured dimension is " +
                          std::to_string(opts_.dimension));
  dimension_ = dim;
  generation_ = doc["generation"].get<size_t>();
  space_ = std::make_unique<hnswlib::InnerProductSpace>(dimension_);
  if (auto res = load_snapshot(); !res) return res;
  if (opts_.lexical)
    if (auto res = open_lexical(false); !res) return res;
  if (auto res = replay_log(); !res) return res;
  if (lexical_) {
    // Caught up (or rebuilt): make that durable, so the next open starts here.
    if (auto res = lexical_rebuild_ ? rebuild_lexical() : caf::expected<void>{caf::unit}; !res)
      drop_lexical(res.error());
    else if (lexical_->applied() != log_position()) {
      lexical_->set_applied(log_position());
      if (auto done = lexical_->commit(); !done) drop_lexical(done.error());
    }
  }
  // Remove what an interrupted snapshot may have left behind.
  if (auto* d = ::opendir(dir_.c_str())) {
    std::vector<std::string> stale;
    const std::string keep[] = {numbered("index-", generation_, ".hnsw"),
                                numbered("chunks-", generation_, ".bin"),
                                numbered("wal-", generation_, ".log"), "CURRENT"};
    while (auto* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      if (std::find(std::begin(keep), std::end(keep), name) != std::end(keep)) continue;
      if (name.rfind("index-", 0) == 0 || name.rfind("chunks-", 0) == 0 ||
          name.rfind("wal-", 0) == 0 || name.rfind("CURRENT", 0) == 0)
        stale.push_back(name);
    }
    ::closedir(d);
    for (auto& name : stale) ::unlink(path(name).c_str());
  }
  return caf::unit;
}

void vector_store::create_index(size_t capacity) {
  replace_index(
      std::make_unique<index_type>(space_.get(), capacity, opts_.m, opts_.ef_construction));
}

void vector_store::replace_index(std::unique_ptr<index_type> index) {
  index_ = std::move(index);
  index_->setEf(opts_.ef_search);
  ++index_serial_;
}

bool vector_store::sync_columns() const {
  std::lock_guard<std::mutex> guard{columns_mutex_};
  const size_t count = index_->cur_element_count;
  if (columns_serial_ != index_serial_) {
    columns_serial_ = index_serial_;
    columns_count_ = 0;
  }
  if (columns_count_ == count) return true;
  try {
    if (count > columns_capacity_) {
      // Room to grow as the index does (doubling), the copy kept.
      size_t capacity = std::max(count, columns_capacity_ * 2);
      std::vector<float> grown(capacity * dimension_);
      for (size_t d = 0; d < dimension_; ++d)
        std::copy_n(columns_.data() + d * columns_capacity_, columns_count_,
                    grown.data() + d * capacity);
      columns_ = std::move(grown);
      columns_capacity_ = capacity;
    }
  } catch (const std::bad_alloc&) {
    columns_ = {};
    columns_capacity_ = columns_count_ = 0;
    return false;
  }
  for (size_t i = columns_count_; i < count; ++i) {
    const auto* v =
        reinterpret_cast<const float*>(index_->getDataByInternalId(static_cast<hnswlib::tableint>(i)));
    for (size_t d = 0; d < dimension_; ++d) columns_[d * columns_capacity_ + i] = v[d];
  }
  columns_count_ = count;
  return true;
}

caf::expected<void> vector_store::initialize(size_t dimension) {
  dimension_ = dimension;
  generation_ = 0;
  space_ = std::make_unique<hnswlib::InnerProductSpace>(dimension_);
  create_index(opts_.initial_capacity);
  auto log = path(numbered("wal-", generation_, ".log"));
  log_fd_ = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd_ < 0) return io_error("cannot create", log);
  log_bytes_ = 0;
  if (::fsync(log_fd_) != 0) return io_error("cannot fsync", log);
  if (auto res = write_current(generation_); !res) return res;
  if (opts_.lexical) {
    // A new store: whatever a lexical/ directory holds belongs to no log
    // (opened empty by load, unless the store was created with a dimension).
    if (!lexical_)
      if (auto res = open_lexical(true); !res) return res;
    lexical_->set_applied(log_position());
    if (auto res = lexical_->commit(); !res) return res;
  }
  return caf::unit;
}

caf::expected<void> vector_store::write_current(size_t generation) {
  json doc{{"format", store_format}, {"dimension", dimension_}, {"generation", generation}};
  auto tmp = path("CURRENT.tmp");
  if (auto res = write_file_synced(tmp, doc.dump() + "\n"); !res) return res;
  if (::rename(tmp.c_str(), path("CURRENT").c_str()) != 0) return io_error("cannot rename", tmp);
  return fsync_path(dir_);
}

caf::expected<void> vector_store::load_snapshot() {
  auto index_file = path(numbered("index-", generation_, ".hnsw"));
  auto chunks_file = path(numbered("chunks-", generation_, ".bin"));
  if (generation_ == 0 && !exists(index_file)) {
    create_index(opts_.initial_capacity);
    return caf::unit;
  }
  auto data = read_file(chunks_file);
  if (!data) return std::move(data.error());
  wal_reader in{*data};
  if (data->size() < sizeof(chunks_magic) + 4 ||
      std::memcmp(data->data(), chunks_magic, sizeof(chunks_magic)) != 0)
    return corrupt(chunks_file, "bad magic");
  auto body_size = data->size() - 4;
  wal_reader crc_in{std::string_view{*data}.substr(body_size)};
  uint32_t stored_crc = 0;
  crc_in.u32(stored_crc);
  if (crc32(std::string_view{*data}.substr(0, body_size)) != stored_crc)
    return corrupt(chunks_file, "checksum mismatch");
  in = wal_reader{
      std::string_view{*data}.substr(sizeof(chunks_magic), body_size - sizeof(chunks_magic))};
  uint64_t dim = 0, next_label = 0, count = 0;
  if (!in.u64(dim) || !in.u64(next_label) || !in.u64(count))
    return corrupt(chunks_file, "truncated header");
  if (dim != dimension_) return corrupt(chunks_file, "dimension differs from CURRENT");
  next_label_ = next_label;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t label = 0;
    entry e;
    std::string meta;
    if (!in.u64(label) || !in.str(e.id) || !in.str(e.text) || !in.str(meta))
      return corrupt(chunks_file, "truncated entry " + std::to_string(i));
    e.metadata = json::parse(meta, nullptr, false);
    if (!e.metadata.is_object()) return corrupt(chunks_file, "bad metadata of " + e.id);
    e.source = source_of(e.metadata);
    by_id_[e.id] = label;
    by_source_[e.source].insert(label);
    entries_.emplace(label, std::move(e));
  }
  // hnswlib 0.6.2's loading constructor leaves num_deleted_ (and the members
  // its destructor frees) uninitialised: start from a zeroed index instead.
  auto loaded = std::make_unique<index_type>(space_.get());
  loaded->num_deleted_ = 0;
  loaded->cur_element_count = 0;
  loaded->data_level0_memory_ = nullptr;
  loaded->linkLists_ = nullptr;
  loaded->visited_list_pool_ = nullptr;
  loaded->metric_distance_computations = 0;
  loaded->metric_hops = 0;
  try {
    loaded->loadIndex(index_file, space_.get(), 0);
  } catch (const std::exception& ex) {
    loaded->cur_element_count = 0;  // the destructor must not walk half-loaded lists
    return corrupt(index_file, ex.what());
  }
  replace_index(std::move(loaded));
  if (index_->cur_element_count - index_->num_deleted_ != entries_.size())
    return corrupt(index_file,
                   "holds " + std::to_string(index_->cur_element_count - index_->num_deleted_) +
                       " live vectors, the chunk table " + std::to_string(entries_.size()));
  return caf::unit;
}

caf::expected<void> vector_store::replay_log() {
  auto log = path(numbered("wal-", generation_, ".log"));
  std::string data;
  if (exists(log)) {
    auto content = read_file(log);
    if (!content) return std::move(content.error());
    data = std::move(*content);
  }
  size_t pos = 0;
  size_t records = 0;
  while (pos < data.size()) {
    if (data.size() - pos < 8) break;
    wal_reader hdr{std::string_view{data}.substr(pos, 8)};
    uint32_t len = 0, crc = 0;
    hdr.u32(len);
    hdr.u32(crc);
    if (len > max_record_bytes || data.size() - pos - 8 < len) break;
    auto payload = std::string_view{data}.substr(pos + 8, len);
    if (crc32(payload) != crc) break;
    auto rec = decode(std::string{payload});
    if (!rec)
      return corrupt(log,
                     "record " + std::to_string(records) + ": " + runtime::describe(rec.error()));
    pos += 8 + len;
    if (lexical_ && !lexical_rebuild_ && pos > lexical_from_) {
      if (auto res = apply_lexical(*rec); !res) drop_lexical(res.error());
    }
    apply(std::move(*rec));
    ++records;
  }
  log_fd_ = ::open(log.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (log_fd_ < 0) return io_error("cannot open", log);
  if (pos < data.size()) {
    dropped_tail_bytes_ = data.size() - pos;
    monitoring::log(monitoring::log_component::retriever)
        .warn("vector store {}: dropping a torn log tail of {} bytes after {} records", dir_,
              dropped_tail_bytes_, records);
    if (::ftruncate(log_fd_, static_cast<off_t>(pos)) != 0 || ::fsync(log_fd_) != 0)
      return io_error("cannot truncate", log);
  }
  if (::lseek(log_fd_, static_cast<off_t>(pos), SEEK_SET) < 0) return io_error("cannot seek", log);
  log_bytes_ = pos;
  return caf::unit;
}

// -- changes ------------------------------------------------------------------

caf::expected<void> vector_store::append_record(const std::string& payload) {
  std::string rec;
  wal_writer w{rec};
  w.u32(static_cast<uint32_t>(payload.size()));
  w.u32(crc32(payload));
  rec += payload;
  auto log = path(numbered("wal-", generation_, ".log"));
  if (!write_all(log_fd_, rec.data(), rec.size()) || ::fdatasync(log_fd_) != 0) {
    auto err = io_error("cannot append to", log);
    // Never leave a partial record in front of later ones.
    if (::ftruncate(log_fd_, static_cast<off_t>(log_bytes_)) != 0 ||
        ::lseek(log_fd_, static_cast<off_t>(log_bytes_), SEEK_SET) < 0)
      closed_ = true;
    return err;
  }
  log_bytes_ += rec.size();
  return caf::unit;
}

void vector_store::ensure_capacity(size_t extra) {
  auto needed = index_->cur_element_count + extra;
  if (needed > index_->max_elements_)
    index_->resizeIndex(std::max(needed, index_->max_elements_ * 2));
}

void vector_store::erase_label(uint64_t label) {
  auto i = entries_.find(label);
  if (i == entries_.end()) return;
  index_->markDelete(label);
  by_id_.erase(i->second.id);
  auto s = by_source_.find(i->second.source);
  if (s != by_source_.end()) {
    s->second.erase(label);
    if (s->second.empty()) by_source_.erase(s);
  }
  entries_.erase(i);
}

void vector_store::insert(uint64_t label, entry e, const float* unit_vector) {
  if (auto old = by_id_.find(e.id); old != by_id_.end()) erase_label(old->second);
  index_->addPoint(unit_vector, label);
  by_id_[e.id] = label;
  by_source_[e.source].insert(label);
  entries_.emplace(label, std::move(e));
}

caf::expected<vector_store::record> vector_store::decode(const std::string& payload) const {
  wal_reader in{payload};
  uint8_t type = 0;
  if (!in.u8(type)) return make_error(errc::service_failed, dir_, "empty record");
  record rec;
  rec.type = static_cast<record_type>(type);
  switch (rec.type) {
    case record_type::add: {
      uint32_t dim = 0, n = 0;
      if (!in.u32(dim) || !in.str(rec.source) || !in.u32(n))
        return make_error(errc::service_failed, dir_, "truncated add record");
      if (dim != dimension_)
        return make_error(errc::service_failed, dir_,
                          "add record of dimension " + std::to_string(dim));
      rec.items.reserve(n);
      for (uint32_t i = 0; i < n; ++i) {
        entry e;
        std::string meta;
        std::vector<float> v(dimension_);
        if (!in.str(e.id) || !in.str(e.text) || !in.str(meta) || !in.floats(v.data(), dimension_))
          return make_error(errc::service_failed, dir_, "truncated add record");
        e.metadata = json::parse(meta, nullptr, false);
        if (!e.metadata.is_object())
          return make_error(errc::service_failed, dir_, "bad metadata in add record");
        e.source = source_of(e.metadata);
        rec.items.emplace_back(std::move(e), std::move(v));
      }
      return rec;
    }
    case record_type::remove_ids: {
      uint32_t n = 0;
      if (!in.u32(n)) return make_error(errc::service_failed, dir_, "truncated remove record");
      for (uint32_t i = 0; i < n; ++i) {
        std::string id;
        if (!in.str(id)) return make_error(errc::service_failed, dir_, "truncated remove record");
        rec.ids.push_back(std::move(id));
      }
      return rec;
    }
    case record_type::remove_source:
      if (!in.str(rec.source))
        return make_error(errc::service_failed, dir_, "truncated remove record");
      return rec;
    case record_type::clear:
      return rec;
  }
  return make_error(errc::service_failed, dir_, "unknown record type " + std::to_string(type));
}

void vector_store::apply(record rec) {
  auto drop_source = [this](const std::string& source) {
    if (auto s = by_source_.find(source); s != by_source_.end()) {
      auto labels = s->second;
      for (auto label : labels) erase_label(label);
    }
  };
  switch (rec.type) {
    case record_type::add:
      if (!rec.source.empty()) drop_source(rec.source);
      ensure_capacity(rec.items.size());
      for (auto& [e, v] : rec.items) insert(next_label_++, std::move(e), v.data());
      return;
    case record_type::remove_ids:
      for (auto& id : rec.ids)
        if (auto it = by_id_.find(id); it != by_id_.end()) erase_label(it->second);
      return;
    case record_type::remove_source:
      drop_source(rec.source);
      return;
    case record_type::clear: {
      std::vector<uint64_t> labels;
      labels.reserve(entries_.size());
      for (auto& kv : entries_) labels.push_back(kv.first);
      for (auto label : labels) erase_label(label);
      return;
    }
  }
}

// -- the lexical index ----------------------------------------------------------

namespace {

std::string title_of(const json& metadata) {
  auto t = metadata.find("title");
  return t != metadata.end() && t->is_string() ? t->get<std::string>() : std::string{};
}

/// The chunk's section headings (dataprep's "headings" metadata), one per
/// line; strings only.
std::string headings_of(const json& metadata) {
  std::string out;
  auto h = metadata.find("headings");
  if (h == metadata.end() || !h->is_array()) return out;
  for (const auto& heading : *h)
    if (heading.is_string()) {
      if (!out.empty()) out += '\n';
      out += heading.get_ref<const std::string&>();
    }
  return out;
}

}  // namespace

std::vector<uint64_t> vector_store::sorted_labels() const {
  std::vector<uint64_t> labels;
  labels.reserve(entries_.size());
  for (auto& kv : entries_) labels.push_back(kv.first);
  std::sort(labels.begin(), labels.end());
  return labels;
}

std::string vector_store::log_position() const {
  return std::to_string(generation_) + ":" + std::to_string(log_bytes_);
}

caf::expected<void> vector_store::apply_lexical(const record& rec) {
  switch (rec.type) {
    case record_type::add:
      if (!rec.source.empty())
        if (auto res = lexical_->remove_source(rec.source); !res) return res;
      for (auto& [e, v] : rec.items)
        if (auto res = lexical_->add(e.id, e.source, title_of(e.metadata), headings_of(e.metadata), e.text); !res)
          return res;
      return caf::unit;
    case record_type::remove_ids:
      for (auto& id : rec.ids)
        if (auto res = lexical_->remove(id); !res) return res;
      return caf::unit;
    case record_type::remove_source:
      return lexical_->remove_source(rec.source);
    case record_type::clear:
      return lexical_->clear();
  }
  return caf::unit;
}

void vector_store::drop_lexical(const caf::error& why) {
  monitoring::log(monitoring::log_component::retriever)
      .error(
          "vector store {}: the lexical index failed ({}); searching without it until the store "
          "is opened again, which rebuilds it",
          dir_, runtime::describe(why));
  std::unique_lock<std::shared_mutex> lock{state_mutex_};
  lexical_.reset();
}

void vector_store::follow_lexical(const record& rec) {
  // Called with writer_mutex_ held, after the record is logged (log_bytes_
  // is its end). The vectors stay behind: the lexical index needs the texts.
  if (!lexical_thread_.joinable()) return;
  auto copy = std::make_unique<record>();
  copy->type = rec.type;
  copy->source = rec.source;
  copy->ids = rec.ids;
  copy->items.reserve(rec.items.size());
  for (auto& item : rec.items) copy->items.emplace_back(item.first, std::vector<float>{});
  enqueue_lexical(std::move(copy), false);
}

void vector_store::enqueue_lexical(std::unique_ptr<record> rec, bool commit) {
  // At most this many changes wait: bounds both the lag of the lexical
  // index behind the vectors and how long a search waits for it.
  constexpr size_t max_backlog = 4;
  std::unique_lock<std::mutex> lock{lexical_mtx_};
  lexical_cv_.wait(lock, [&] { return lexical_queue_.size() < max_backlog || lexical_stop_; });
  lexical_queue_.push_back({std::move(rec), log_position(), commit, {}});
  ++lexical_enqueued_;
  lexical_cv_.notify_all();
}

std::future<caf::expected<std::vector<lexical_hit>>> vector_store::lexical_hits(
    const std::string& text, size_t k) const {
  using hits = caf::expected<std::vector<lexical_hit>>;
  auto done = std::make_shared<std::promise<hits>>();
  auto result = done->get_future();
  std::lock_guard<std::mutex> lock{lexical_mtx_};
  if (!lexical_thread_.joinable() || lexical_stop_) {
    done->set_value(std::vector<lexical_hit>{});
    return result;
  }
  lexical_job job;
  job.search = [this, done, text, k] {
    done->set_value(lexical_ ? lexical_->search(text, k) : hits{std::vector<lexical_hit>{}});
  };
  lexical_queue_.push_back(std::move(job));
  ++lexical_enqueued_;
  lexical_cv_.notify_all();
  return result;
}

void vector_store::lexical_worker() {
  for (;;) {
    lexical_job job;
    {
      std::unique_lock<std::mutex> lock{lexical_mtx_};
      lexical_cv_.wait(lock, [&] { return lexical_stop_ || !lexical_queue_.empty(); });
      if (lexical_queue_.empty()) return;  // stopping, nothing left
      job = std::move(lexical_queue_.front());
      lexical_queue_.pop_front();
    }
    // Only this thread changes lexical_ while it runs (drop_lexical).
    if (job.search) {
      job.search();
    } else if (lexical_) {
      caf::expected<void> res = caf::unit;
      if (job.rec) res = apply_lexical(*job.rec);
      if (res) {
        lexical_->set_applied(job.position);
        if (job.commit || lexical_->pending() >= opts_.lexical_commit_changes)
          res = lexical_->commit();
      }
      if (!res) drop_lexical(res.error());
    }
    std::lock_guard<std::mutex> lock{lexical_mtx_};
    ++lexical_done_;
    lexical_cv_.notify_all();
  }
}

void vector_store::wait_lexical() const {
  std::unique_lock<std::mutex> lock{lexical_mtx_};
  auto target = lexical_enqueued_;
  lexical_cv_.wait(lock, [&] { return lexical_done_ >= target || lexical_stop_; });
}

void vector_store::stop_lexical() {
  if (!lexical_thread_.joinable()) return;
  wait_lexical();
  {
    std::lock_guard<std::mutex> lock{lexical_mtx_};
    lexical_stop_ = true;
    lexical_cv_.notify_all();
  }
  lexical_thread_.join();
}

caf::expected<void> vector_store::open_lexical(bool overwrite) {
  lexical_rebuild_ = false;
  lexical_from_ = 0;
  lexical_.reset();  // a database is opened once per process (Xapian's lock)
  auto where = path("lexical");
  auto index = lexical_index::open(where, overwrite);
  if (!index) {
    monitoring::log(monitoring::log_component::retriever)
        .warn("vector store {}: {}; rebuilding the lexical index", dir_,
              runtime::describe(index.error()));
    std::error_code ec;
    std::filesystem::remove_all(where, ec);
    index = lexical_index::open(where, true);
    if (!index) return std::move(index.error());
    lexical_rebuild_ = true;
  }
  lexical_ = std::move(*index);
  if (overwrite) return caf::unit;
  // "<generation>:<offset>": replay this generation's log from offset.
  auto at = lexical_->applied();
  auto colon = at.find(':');
  size_t gen = 0, off = 0;
  bool ok = colon != std::string::npos && colon > 0;
  try {
    if (ok) {
      gen = std::stoull(at.substr(0, colon));
      off = std::stoull(at.substr(colon + 1));
    }
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok || gen != generation_) {
    if (!lexical_rebuild_)
      monitoring::log(monitoring::log_component::retriever)
          .info("vector store {}: the lexical index {} (store at generation {}); rebuilding it",
                dir_, at.empty() ? "is new" : "is at " + at, generation_);
    lexical_rebuild_ = true;
  } else {
    lexical_from_ = off;
  }
  return caf::unit;
}

caf::expected<void> vector_store::rebuild_lexical() {
  if (auto res = open_lexical(true); !res) return res;
  for (auto label : sorted_labels()) {
    auto& e = entries_.at(label);
    if (auto res = lexical_->add(e.id, e.source, title_of(e.metadata), headings_of(e.metadata), e.text); !res) return res;
  }
  lexical_->set_applied(log_position());
  return lexical_->commit();
}

bool vector_store::has_lexical() const {
  std::shared_lock<std::shared_mutex> lock{state_mutex_};
  return lexical_ != nullptr;
}

caf::expected<void> vector_store::log_and_apply(const std::string& payload) {
  // Decoded first: a record this store could not read back is never logged.
  auto rec = decode(payload);
  if (!rec) return std::move(rec.error());
  if (auto res = append_record(payload); !res) return res;
  follow_lexical(*rec);
  {
    std::unique_lock<std::shared_mutex> lock{state_mutex_};
    apply(std::move(*rec));
  }
  return maybe_snapshot();
}

caf::expected<void> vector_store::add(std::vector<chunk> batch, const std::string& replace_source) {
  std::lock_guard<std::mutex> writer{writer_mutex_};
  if (closed_) return make_error(errc::service_failed, "vector store " + dir_, "closed");
  if (batch.empty() && replace_source.empty()) return caf::unit;
  size_t dim = dimension_;
  if (dim == 0 && !batch.empty()) dim = batch.front().embedding.size();
  std::unordered_set<std::string> ids;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& c = batch[i];
    auto subject = "chunks[" + std::to_string(i) + "]";
    if (c.id.empty()) return make_error(errc::bad_request, subject + ".id", "must not be empty");
    if (!ids.insert(c.id).second)
      return make_error(errc::bad_request, subject + ".id",
                        "duplicate id '" + c.id + "' in the batch");
    if (!c.metadata.is_object())
      return make_error(errc::bad_request, subject + ".metadata", "must be a JSON object");
    if (auto s = c.metadata.find("source"); s != c.metadata.end() && !s->is_string())
      return make_error(errc::bad_request, subject + ".metadata.source", "must be a string");
    if (c.embedding.size() != dim || dim == 0)
      return make_error(errc::bad_request, subject + ".embedding",
                        "has " + std::to_string(c.embedding.size()) +
                            " values, the store's dimension is " + std::to_string(dim));
    if (auto why = normalise(c.embedding); !why.empty())
      return make_error(errc::bad_request, subject + ".embedding", why);
  }
  if (dimension_ == 0) {
    if (batch.empty()) return caf::unit;  // nothing stored yet, nothing to replace
    std::unique_lock<std::shared_mutex> lock{state_mutex_};
    if (auto res = initialize(dim); !res) return res;
  }
  std::string payload;
  wal_writer w{payload};
  w.u8(static_cast<uint8_t>(record_type::add));
  w.u32(static_cast<uint32_t>(dimension_));
  w.str(replace_source);
  w.u32(static_cast<uint32_t>(batch.size()));
  for (auto& c : batch) {
    w.str(c.id);
    w.str(c.text);
    w.str(c.metadata.dump());
    w.floats(c.embedding.data(), dimension_);
  }
  if (payload.size() > max_record_bytes)
    return make_error(errc::bad_request, "batch",
                      "too large for one record (" + std::to_string(payload.size()) + " bytes)");
  {
    // Grow before logging: an allocation failure must not leave a logged
    // change unapplied.
    std::unique_lock<std::shared_mutex> lock{state_mutex_};
    try {
      ensure_capacity(batch.size());
    } catch (const std::exception& ex) {
      return make_error(errc::overloaded, "vector store " + dir_, ex.what());
    }
  }
  return log_and_apply(payload);
}

caf::expected<size_t> vector_store::remove(const std::vector<std::string>& ids) {
  std::lock_guard<std::mutex> writer{writer_mutex_};
  if (closed_) return make_error(errc::service_failed, "vector store " + dir_, "closed");
  std::vector<std::string> present;
  {
    std::shared_lock<std::shared_mutex> lock{state_mutex_};
    std::unordered_set<std::string> seen;
    for (auto& id : ids)
      if (by_id_.count(id) > 0 && seen.insert(id).second) present.push_back(id);
  }
  if (present.empty()) return size_t{0};
  std::string payload;
  wal_writer w{payload};
  w.u8(static_cast<uint8_t>(record_type::remove_ids));
  w.u32(static_cast<uint32_t>(present.size()));
  for (auto& id : present) w.str(id);
  if (auto res = log_and_apply(payload); !res) return std::move(res.error());
  return present.size();
}

caf::expected<size_t> vector_store::remove_source(const std::string& source) {
  std::lock_guard<std::mutex> writer{writer_mutex_};
  if (closed_) return make_error(errc::service_failed, "vector store " + dir_, "closed");
  size_t n = 0;
  {
    std::shared_lock<std::shared_mutex> lock{state_mutex_};
    if (auto s = by_source_.find(source); s != by_source_.end()) n = s->second.size();
  }
  if (n == 0) return size_t{0};
  std::string payload;
  wal_writer w{payload};
  w.u8(static_cast<uint8_t>(record_type::remove_source));
  w.str(source);
  if (auto res = log_and_apply(payload); !res) return std::move(res.error());
  return n;
}

caf::expected<size_t> vector_store::clear() {
  std::lock_guard<std::mutex> writer{writer_mutex_};
  if (closed_) return make_error(errc::service_failed, "vector store " + dir_, "closed");
  size_t n = 0;
  {
    std::shared_lock<std::shared_mutex> lock{state_mutex_};
    n = entries_.size();
  }
  if (n == 0) return size_t{0};
  std::string payload(1, static_cast<char>(record_type::clear));
  if (auto res = log_and_apply(payload); !res) return std::move(res.error());
  return n;
}

// -- snapshots ----------------------------------------------------------------

caf::expected<void> vector_store::maybe_snapshot() {
  if (log_bytes_ < opts_.snapshot_log_bytes) return caf::unit;
  return snapshot_locked();
}

caf::expected<void> vector_store::snapshot() {
  std::lock_guard<std::mutex> writer{writer_mutex_};
  if (closed_) return make_error(errc::service_failed, "vector store " + dir_, "closed");
  return snapshot_locked();
}

caf::expected<void> vector_store::close() {
  std::lock_guard<std::mutex> writer{writer_mutex_};
  if (closed_) return caf::unit;
  caf::expected<void> res = caf::unit;
  if (log_bytes_ > 0) res = snapshot_locked();
  closed_ = true;
  stop_lexical();
  std::unique_lock<std::shared_mutex> lock{state_mutex_};
  if (lexical_) {
    if (auto done = lexical_->commit(); !done && res) res = std::move(done.error());
    lexical_.reset();  // releases the database's lock
  }
  return res;
}

caf::expected<void> vector_store::snapshot_locked() {
  // Called with writer_mutex_ held: no change runs concurrently, so reading
  // the state under a shared lock lets searches continue meanwhile.
  if (dimension_ == 0) return caf::unit;
  auto next = generation_ + 1;
  auto index_file = path(numbered("index-", next, ".hnsw"));
  auto chunks_file = path(numbered("chunks-", next, ".bin"));
  auto log_file = path(numbered("wal-", next, ".log"));
  try {
    std::unique_ptr<index_type> rebuilt;
    {
      std::shared_lock<std::shared_mutex> lock{state_mutex_};
      if (index_->num_deleted_ > 0 && index_->num_deleted_ > entries_.size()) {
        // Mostly deleted vectors: rebuild from the live ones.
        auto live = entries_.size();
        rebuilt = std::make_unique<index_type>(space_.get(),
                                               std::max(opts_.initial_capacity, live + live / 4),
                                               opts_.m, opts_.ef_construction);
        for (auto label : sorted_labels()) {
          auto v = index_->getDataByLabel<float>(label);
          rebuilt->addPoint(v.data(), label);
        }
      }
    }
    if (rebuilt) {
      std::unique_lock<std::shared_mutex> lock{state_mutex_};
      replace_index(std::move(rebuilt));
    }
    std::shared_lock<std::shared_mutex> lock{state_mutex_};
    index_->saveIndex(index_file);
  } catch (const std::exception& ex) {
    return make_error(errc::service_failed, "vector store " + index_file, ex.what());
  }
  if (auto res = fsync_path(index_file); !res) return res;
  std::string data(chunks_magic, sizeof(chunks_magic));
  {
    std::shared_lock<std::shared_mutex> lock{state_mutex_};
    wal_writer w{data};
    w.u64(dimension_);
    w.u64(next_label_);
    w.u64(entries_.size());
    for (auto label : sorted_labels()) {
      auto& e = entries_.at(label);
      w.u64(label);
      w.str(e.id);
      w.str(e.text);
      w.str(e.metadata.dump());
    }
  }
  {
    wal_writer w{data};
    w.u32(crc32(data));
  }
  if (auto res = write_file_synced(chunks_file, data); !res) return res;
  int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", log_file);
  if (::fsync(fd) != 0) {
    ::close(fd);
    return io_error("cannot fsync", log_file);
  }
  if (auto res = write_current(next); !res) {
    ::close(fd);
    return res;
  }
  auto old = generation_;
  generation_ = next;
  ::close(log_fd_);
  log_fd_ = fd;
  log_bytes_ = 0;
  ::unlink(path(numbered("index-", old, ".hnsw")).c_str());
  ::unlink(path(numbered("chunks-", old, ".bin")).c_str());
  ::unlink(path(numbered("wal-", old, ".log")).c_str());
  // Until this commit the lexical index names the old generation: a crash
  // before it has the next open rebuild it.
  if (lexical_thread_.joinable()) enqueue_lexical(nullptr, true);
  return caf::unit;
}

// -- queries ------------------------------------------------------------------

caf::expected<std::vector<float>> vector_store::unit_query(const std::vector<float>& query) const {
  if (dimension_ != 0 && query.size() != dimension_)
    return make_error(errc::bad_request, "embedding",
                      "has " + std::to_string(query.size()) + " values, the store's dimension is " +
                          std::to_string(dimension_));
  auto q = query;
  if (auto why = normalise(q); !why.empty()) return make_error(errc::bad_request, "embedding", why);
  return q;
}

caf::expected<std::vector<std::pair<float, uint64_t>>> vector_store::nearest(
    const float* unit_query, size_t n) const {
  std::vector<std::pair<float, uint64_t>> found;  // (distance, label)
  if (!index_ || entries_.empty()) return found;
  if (entries_.size() <= opts_.exact_search_limit) {
    // Exact: every live vector. A sparse query (at most half its dimensions
    // non-zero) is multiplied by the columns of its non-zero dimensions;
    // a dense one by each vector with hnswlib's (SIMD) inner product.
    std::vector<size_t> nonzero;
    for (size_t d = 0; d < dimension_; ++d)
      if (unit_query[d] != 0.0f) nonzero.push_back(d);
    const size_t count = index_->cur_element_count;
    if (nonzero.size() <= dimension_ / 2 && sync_columns()) {
      std::vector<float> dot(count, 0.0f);
      for (auto d : nonzero) {
        const float q = unit_query[d];
        const float* column = columns_.data() + d * columns_capacity_;
        for (size_t i = 0; i < count; ++i) dot[i] += q * column[i];
      }
      // The nearest n + deleted ones by distance (ties by id, which orders
      // as the label), then the first n live: an element's deleted mark
      // and label lie beside its vector, one cache miss each, so only the
      // ones kept are read.
      std::vector<std::pair<float, hnswlib::tableint>> scored(count);
      for (size_t i = 0; i < count; ++i)
        scored[i] = {1.0f - dot[i], static_cast<hnswlib::tableint>(i)};
      auto m = std::min(count, n + index_->num_deleted_);
      std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(m),
                        scored.end());
      for (size_t j = 0; j < m && found.size() < n; ++j) {
        auto id = scored[j].second;
        if (index_->isMarkedDeleted(id)) continue;
        found.emplace_back(scored[j].first, static_cast<uint64_t>(index_->getExternalLabel(id)));
      }
    } else {
      auto dist = space_->get_dist_func();
      auto* param = space_->get_dist_func_param();
      found.reserve(entries_.size());
      for (size_t i = 0; i < count; ++i) {
        auto id = static_cast<hnswlib::tableint>(i);
        if (index_->isMarkedDeleted(id)) continue;
        found.emplace_back(dist(unit_query, index_->getDataByInternalId(id), param),
                           static_cast<uint64_t>(index_->getExternalLabel(id)));
      }
    }
    auto keep = std::min(n, found.size());
    std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(keep),
                      found.end());
    found.resize(keep);
  } else {
    {
      // Past exact search: no column copy.
      std::lock_guard<std::mutex> guard{columns_mutex_};
      if (columns_capacity_ != 0) {
        columns_ = {};
        columns_capacity_ = columns_count_ = 0;
      }
    }
    try {
      auto pq = index_->searchKnn(unit_query, std::min(n, entries_.size()));
      while (!pq.empty()) {
        found.emplace_back(pq.top().first, static_cast<uint64_t>(pq.top().second));
        pq.pop();
      }
    } catch (const std::exception& ex) {
      return make_error(errc::service_failed, "vector store " + dir_, ex.what());
    }
    std::sort(found.begin(), found.end());
  }
  // Drop labels a concurrent writer has not published (cannot happen while
  // the caller holds the shared lock, but keeps entries_.at safe).
  found.erase(std::remove_if(found.begin(), found.end(),
                             [&](auto& f) { return entries_.count(f.second) == 0; }),
              found.end());
  return found;
}

caf::expected<std::vector<search_hit>> vector_store::search(const std::vector<float>& query,
                                                            const search_params& params) const {
  static const char* types[] = {"similarity", "similarity_distance_threshold",
                                "similarity_score_threshold", "mmr"};
  if (std::find(std::begin(types), std::end(types), params.search_type) == std::end(types))
    return make_error(errc::bad_request, "search_type",
                      "'" + params.search_type +
                          "' is not one of similarity, similarity_distance_threshold, "
                          "similarity_score_threshold, mmr");
  if (auto err = check_count("k", params.k)) return err;
  bool mmr = params.search_type == "mmr";
  if (mmr)
    if (auto err = check_count("fetch_k", params.fetch_k)) return err;
  if (mmr && !(params.lambda_mult >= 0 && params.lambda_mult <= 1))
    return make_error(errc::bad_request, "lambda_mult", "must be in [0, 1]");
  if (params.search_type == "similarity_distance_threshold" && !params.distance_threshold)
    return make_error(errc::bad_request, "distance_threshold",
                      "must be provided for search_type similarity_distance_threshold");
  std::shared_lock<std::shared_mutex> lock{state_mutex_};
  std::vector<search_hit> hits;
  auto unit = unit_query(query);
  if (!unit) return std::move(unit.error());
  auto& q = *unit;
  if (!index_ || entries_.empty()) return hits;
  auto n = mmr ? params.fetch_k : params.k;
  auto found = nearest(q.data(), n);
  if (!found) return std::move(found.error());
  auto hit_of = [&](uint64_t label, double score) {
    auto& e = entries_.at(label);
    return search_hit{e.id, e.text, e.metadata, score};
  };
  if (!mmr) {
    for (auto& [dist, label] : *found) {
      double score = 1.0 - static_cast<double>(dist);
      if (params.search_type == "similarity_distance_threshold" &&
          static_cast<double>(dist) > *params.distance_threshold)
        continue;
      if (params.search_type == "similarity_score_threshold" && score < params.score_threshold)
        continue;
      hits.push_back(hit_of(label, score));
    }
    return hits;
  }
  // Maximal marginal relevance over the fetch_k nearest, as LangChain's
  // maximal_marginal_relevance: start with the most similar, then add the
  // candidate maximising lambda * sim(query) - (1 - lambda) * max sim(selected).
  std::vector<std::vector<float>> vecs;
  std::vector<double> sim_q;
  for (auto& f : *found) {
    vecs.push_back(index_->getDataByLabel<float>(f.second));
    sim_q.push_back(dot(q.data(), vecs.back().data(), dimension_));
  }
  auto want = std::min(params.k, found->size());
  std::vector<size_t> picked;
  std::vector<double> max_sim_selected(found->size(), -std::numeric_limits<double>::infinity());
  std::vector<bool> taken(found->size(), false);
  while (picked.size() < want) {
    size_t best = found->size();
    double best_score = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < found->size(); ++i) {
      if (taken[i]) continue;
      double s = picked.empty() ? sim_q[i]
                                : params.lambda_mult * sim_q[i] -
                                      (1 - params.lambda_mult) * max_sim_selected[i];
      if (s > best_score || best == found->size()) {
        best_score = s;
        best = i;
      }
    }
    taken[best] = true;
    picked.push_back(best);
    for (size_t i = 0; i < found->size(); ++i)
      if (!taken[i])
        max_sim_selected[i] =
            std::max(max_sim_selected[i],
                     static_cast<double>(dot(vecs[i].data(), vecs[best].data(), dimension_)));
  }
  for (auto i : picked) hits.push_back(hit_of((*found)[i].second, sim_q[i]));
  return hits;
}

caf::expected<std::vector<search_hit>> vector_store::lexical_search(const std::string& text,
                                                                    size_t k) const {
  if (auto err = check_count("k", k)) return err;
  // Not under state_mutex_: the lexical thread may need it (drop_lexical).
  auto found = lexical_hits(text, k).get();
  if (!found) return std::move(found.error());
  std::shared_lock<std::shared_mutex> lock{state_mutex_};
  std::vector<search_hit> hits;
  for (auto& h : *found) {
    // A chunk the lexical index has and the table not yet (a change being
    // applied) is left out.
    auto it = by_id_.find(h.id);
    if (it == by_id_.end()) continue;
    auto& e = entries_.at(it->second);
    hits.push_back(search_hit{e.id, e.text, e.metadata, h.score});
  }
  return hits;
}

caf::expected<std::vector<search_hit>> vector_store::hybrid_search(
    const std::vector<float>& query, const std::string& text, const search_params& params,
    const hybrid_params& fusion) const {
  if (params.search_type != "similarity" || !has_lexical()) return search(query, params);
  if (auto err = check_count("k", params.k)) return err;
  if (!(fusion.rrf_k >= 0) || fusion.depth == 0)
    return make_error(errc::bad_request, "hybrid search", "rrf_k must be >= 0 and depth > 0");
  auto depth = std::min(std::max(params.k, fusion.depth), max_results);
  // The lexical search runs on the lexical thread while this thread
  // searches the vectors.
  auto words_done = lexical_hits(text, depth);
  std::vector<std::pair<float, uint64_t>> by_vector;
  std::vector<float> q;
  {
    std::shared_lock<std::shared_mutex> lock{state_mutex_};
    auto unit = unit_query(query);
    if (!unit) return std::move(unit.error());
    q = std::move(*unit);
    auto found = nearest(q.data(), depth);
    if (!found) return std::move(found.error());
    by_vector = std::move(*found);
  }
  // Not under state_mutex_: the lexical thread may need it (drop_lexical).
  std::vector<lexical_hit> by_words;
  if (auto found = words_done.get())
    by_words = std::move(*found);
  else
    monitoring::log(monitoring::log_component::retriever)
        .warn("vector store {}: lexical search failed ({}); answering by vectors only", dir_,
              runtime::describe(found.error()));
  std::shared_lock<std::shared_mutex> lock{state_mutex_};
  std::vector<search_hit> hits;
  // A chunk removed since the vector search is left out.
  by_vector.erase(std::remove_if(by_vector.begin(), by_vector.end(),
                                 [&](auto& f) { return entries_.count(f.second) == 0; }),
                  by_vector.end());
  // Fused on labels; only the k chunks kept are copied out.
  struct fused {
    uint64_t label;
    double score;
    double cosine;
    bool has_cosine;
  };
  std::vector<fused> all;
  std::unordered_map<uint64_t, size_t> at;
  for (size_t r = 0; r < by_vector.size(); ++r) {
    auto [dist, label] = by_vector[r];
    at.emplace(label, all.size());
    all.push_back({label, 1.0 / (fusion.rrf_k + static_cast<double>(r + 1)),
                   1.0 - static_cast<double>(dist), true});
  }
  for (size_t r = 0; r < by_words.size(); ++r) {
    // A chunk the lexical index has and the table not (a change being
    // applied) is left out.
    auto id = by_id_.find(by_words[r].id);
    if (id == by_id_.end()) continue;
    double s = 1.0 / (fusion.rrf_k + static_cast<double>(r + 1));
    if (auto i = at.find(id->second); i != at.end()) {
      all[i->second].score += s;
    } else {
      at.emplace(id->second, all.size());
      all.push_back({id->second, s, 0.0, false});
    }
  }
  // Stable: equal fused scores keep the vector ranking's order.
  std::stable_sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.score > b.score; });
  if (all.size() > params.k) all.resize(params.k);
  hits.reserve(all.size());
  for (auto& f : all) {
    if (!f.has_cosine) {
      // Found by its words only: its score is still its cosine similarity.
      auto v = index_->getDataByLabel<float>(f.label);
      f.cosine = dot(q.data(), v.data(), dimension_);
    }
    auto& e = entries_.at(f.label);
    hits.push_back(search_hit{e.id, e.text, e.metadata, f.cosine});
  }
  return hits;
}

std::vector<source_info> vector_store::list_sources() const {
  std::shared_lock<std::shared_mutex> lock{state_mutex_};
  std::vector<source_info> out;
  out.reserve(by_source_.size());
  for (auto& [name, labels] : by_source_) out.push_back({name, labels.size()});
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

size_t vector_store::source_count() const {
  std::shared_lock<std::shared_mutex> lock{state_mutex_};
  return by_source_.size();
}

size_t vector_store::size() const {
  std::shared_lock<std::shared_mutex> lock{state_mutex_};
  return entries_.size();
}

size_t vector_store::dimension() const {
  std::shared_lock<std::shared_mutex> lock{state_mutex_};
  return dimension_;
}

}  // namespace opea::actors

#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "actors/dataprep/chunker.hpp"
#include "actors/dataprep/multipart.hpp"
#include "actors/embedding/embedder.hpp"
#include "actors/retriever/vector_store.hpp"

namespace opea::actors {

/// Ingestion parameters, as OPEA's /v1/dataprep/ingest form fields.
struct ingest_options {
  /// See chunk_options. Default: 1500.
  size_t chunk_size = 1500;
  /// See chunk_options. Default: 100.
  size_t chunk_overlap = 100;
  /// OPEA's PDF table extraction; accepted and ignored (no PDF support).
  /// Default: false.
  bool process_table = false;
  /// Accepted and ignored, as process_table. Default: "fast".
  std::string table_strategy = "fast";
  /// Texts per embedder call (OPEA's redis dataprep uses 32). Default: 32.
  size_t embed_batch_size = 32;
};

/// One document to ingest.
struct source_document {
  /// The source name the chunks are stored under (listed by get, removed by
  /// delete): the file's base name, or "text-<16 hex digits>" for raw text.
  std::string name;
  /// Picks the parser by extension (see parse_document).
  std::string file_name;
  std::string bytes;
};

/// A parsed /v1/dataprep/ingest request.
struct ingest_request {
  std::vector<source_document> documents;
  ingest_options options;
  /// OPEA's `index_name` form field, empty when absent. Not interpreted here:
  /// the caller picks the store.
  std::string index_name;
};

/// Progress of one ingest, reported after each embedder batch and document.
struct ingest_progress {
  size_t documents_done = 0;
  size_t documents_total = 0;
  size_t chunks_done = 0;
};

/// Configuration of the dataprep service.
struct dataprep_config {
  /// When set, `link_list` paths must resolve (symlinks and ".." followed)
  /// inside this directory; an HTTP-facing node sets it so that a request
  /// cannot read arbitrary files into the index. Empty = any local path (the
  /// CLI). Default: empty.
  std::string link_root;
  /// Where ingestion continues after an asynchronous embedder answers (the
  /// store write blocks on fsync): a worker pool's post function. Empty =
  /// on the embedder's callback thread (fine for the built-in, synchronous
  /// embedder; a remote one answers on the HTTP client's I/O thread).
  /// Default: empty.
  std::function<void(std::function<void()>)> post;
};

/// OPEA's dataprep on a vector_store and an embedder: parse, chunk, embed,
/// store; list and delete sources. Responses reproduce OPEA's
/// (comps/dataprep/src/integrations/redis.py) JSON shapes.
///
/// Thread-safe: holds no mutable state (the store and the embedder are
/// thread-safe). Reading link files, parsing, chunking and store writes
/// (fsync) block: call from a worker thread, never a CAF scheduler thread.
class dataprep_service {
 public:
  dataprep_service(vector_store_ptr store, embedder_ptr embedder, dataprep_config cfg = {});

  /// An uploaded file; the source name is the base name of `file_name`.
  /// errc::bad_request when the name is empty.
  [[nodiscard]] static caf::expected<source_document> from_upload(const std::string& file_name,
                                                                  std::string bytes);

  /// Raw text, stored as "text-<FNV-1a 64 of the text, 16 hex digits>".
  static source_document from_text(std::string text);

  /// A local path or file:// URL, read now; source name = base name. Remote
  /// URLs (any other scheme://) are errc::bad_request: there is no network
  /// fetch. So are unreadable paths and paths outside `link_root`.
  [[nodiscard]] caf::expected<source_document> from_link(const std::string& link) const;

  /// The multipart form of POST /v1/dataprep/ingest: `files` parts (with a
  /// filename), `link_list` (a JSON list of strings), `chunk_size`,
  /// `chunk_overlap`, `process_table`, `table_strategy`, `index_name`; other
  /// fields are ignored. Errors name the field; neither files nor links is
  /// OPEA's "Must provide either a file or a string list."
  [[nodiscard]] caf::expected<ingest_request> parse_form(const std::vector<form_part>& parts) const;

  /// The JSON form: {"text": "..."} and/or {"link_list": [..] or "[..]"},
  /// plus the same options as numbers/booleans.
  [[nodiscard]] caf::expected<ingest_request> parse_json(const nlohmann::json& body) const;

  using done_fn = std::function<void(caf::expected<nlohmann::json>)>;
  using progress_fn = std::function<void(const ingest_progress&)>;

  /// Ingests `documents` in order. Every document is parsed and chunked
  /// before anything is written (an unsupported or invalid one fails the
  /// request with nothing stored); then each is embedded in batches and
  /// written as ONE store change that replaces the source's previous chunks
  /// (all or nothing per document, no duplicates on re-ingest). Chunk ids are
  /// "<source>#<index>"; metadata {"source", "chunk_index", "title" (if any)}.
  ///
  /// `done` is called once, on the calling thread or the embedder's, with
  /// {"status": 200, "message": "Data preparation succeeded", "documents": N,
  /// "chunks": M, "files": [{"name", "chunks"}...]} or the first error
  /// (naming the document; earlier documents stay ingested). `progress` (may
  /// be empty) is called on the same threads.
  void ingest(std::vector<source_document> documents, const ingest_options& opts, done_fn done,
              progress_fn progress = {}) const;

  /// GET /v1/dataprep/get: [{"name", "id", "type": "File", "parent": ""}...]
  /// sorted by name.
  nlohmann::json get_files() const;

  /// POST /v1/dataprep/delete with {"file_path": name | "all"}: {"status":
  /// true}. A name is matched exactly, then by base name. Unknown name:
  /// errc::bad_request (OPEA answers 404) naming file_path.
  [[nodiscard]] caf::expected<nlohmann::json> delete_files(const nlohmann::json& body) const;

 private:
  vector_store_ptr store_;
  embedder_ptr embedder_;
  dataprep_config cfg_;
};

}  // namespace opea::actors

#include "monitoring/tracing/span.hpp"

#include "monitoring/tracing/batch_span_processor.hpp"

namespace opea::monitoring {

span::span(std::unique_ptr<span_data> data, std::shared_ptr<batch_span_processor> processor)
    : context_(data->context), data_(std::move(data)), processor_(std::move(processor)) {}

span& span::operator=(span&& other) noexcept {
  if (this != &other) {
    end();
    context_ = std::move(other.context_);
    data_ = std::move(other.data_);
    processor_ = std::move(other.processor_);
  }
  return *this;
}

void span::set(std::string_view key, attribute_value&& value) {
  if (!data_) return;
  for (auto& a : data_->attributes) {
    if (a.key == key) {
      a.value = std::move(value);
      return;
    }
  }
  if (data_->attributes.empty()) data_->attributes.reserve(4);  // one allocation for most spans
  if (data_->attributes.size() >= span_data::max_attributes) {
    ++data_->dropped_attributes;
    return;
  }
  data_->attributes.push_back(span_attribute{std::string{key}, std::move(value)});
}

void span::set_attribute(std::string_view key, std::string_view value) {
  if (data_) set(key, attribute_value{std::in_place_index<0>, value});
}

void span::set_int(std::string_view key, std::int64_t value) {
  if (data_) set(key, attribute_value{std::in_place_index<1>, value});
}

void span::set_attribute(std::string_view key, double value) {
  if (data_) set(key, attribute_value{std::in_place_index<2>, value});
}

void span::set_attribute(std::string_view key, bool value) {
  if (data_) set(key, attribute_value{std::in_place_index<3>, value});
}

void span::set_status(status_code code, std::string_view message) {
  if (!data_ || code == status_code::unset || data_->status == status_code::ok) return;
  data_->status = code;
  if (code == status_code::error)
    data_->status_message = std::string{message};
  else
    data_->status_message.clear();
}

void span::end() {
  if (data_) end(unix_nanos_now());
}

void span::end(std::uint64_t end_unix_nano) {
  if (!data_) return;
  data_->end_unix_nano = end_unix_nano;
  if (processor_) processor_->on_end(std::move(data_));
  data_.reset();
  processor_.reset();
}

}  // namespace opea::monitoring

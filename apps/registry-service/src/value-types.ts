import { ValueType } from '@scoregate/contracts';

/** Feature value types by the names the JSON files use for them (feature views, model manifest). */
export const VALUE_TYPES: Readonly<Record<string, ValueType>> = {
  double: ValueType.DOUBLE,
  int64: ValueType.INT64,
  string: ValueType.STRING,
  bool: ValueType.BOOL,
};

/** The names of {@link VALUE_TYPES}, for error messages. */
export const VALUE_TYPE_NAMES = Object.keys(VALUE_TYPES).join(', ');

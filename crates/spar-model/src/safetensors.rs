//! The safetensors file format: parse and write, in memory, without `std`.
//!
//! A safetensors file (Hugging Face, <https://github.com/huggingface/safetensors>) is
//!
//! ```text
//! [ N: u64 little-endian ][ N bytes: UTF-8 JSON header ][ data bytes ]
//! header = { "__metadata__": { "key": "value", ... },          (optional, strings only)
//!            "<tensor name>": { "dtype": "F32",
//!                               "shape": [d0, d1, ...],
//!                               "data_offsets": [begin, end] },  (byte range in the data)
//!            ... }
//! ```
//!
//! Tensor data is row-major (C order), little-endian. [`SafeTensors::parse`] checks
//! everything a reader can get wrong before handing out a byte slice: the header length
//! against the file, the JSON, each entry's dtype, shape and offsets, that
//! `end - begin == product(shape) * size_of(dtype)`, and that the tensors tile the data
//! area exactly (no overlap, no gap, no trailing bytes), as the format's specification
//! demands. Every error names the tensor it concerns.
//!
//! [`serialize`] writes f32 tensors in the order given, pads the header with spaces to a
//! multiple of 8 bytes (so the data starts aligned, as the reference writer does) and
//! writes the `__metadata__` map first.
//!
//! ```
//! use spar_model::safetensors::{serialize, Dtype, SafeTensors, TensorRef};
//!
//! let w = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let bytes = serialize(
//!     &[TensorRef { name: "w", shape: &[2, 3], data: &w }],
//!     &[("format", "pt")],
//! )
//! .unwrap();
//! let file = SafeTensors::parse(&bytes).unwrap();
//! let view = file.get("w").unwrap();
//! assert_eq!(view.dtype, Dtype::F32);
//! assert_eq!(view.shape, [2, 3]);
//! assert_eq!(view.to_f32().unwrap(), w);
//! assert_eq!(file.metadata().get("format").map(String::as_str), Some("pt"));
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// The largest JSON header accepted, in bytes (the reference implementation's limit).
pub const MAX_HEADER_LEN: u64 = 100_000_000;

/// The key of the free-form string map in the header.
pub const METADATA_KEY: &str = "__metadata__";

/// An element type of a safetensors tensor.
///
/// All the format's dtypes parse (so that any valid file can be inspected and its
/// non-float buffers skipped); [`TensorView::to_f32`] converts `F32`, `F16` and `BF16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// Boolean, one byte.
    Bool,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 8-bit integer.
    I8,
    /// 8-bit float, 5 exponent bits and 2 mantissa bits.
    F8E5M2,
    /// 8-bit float, 4 exponent bits and 3 mantissa bits.
    F8E4M3,
    /// Signed 16-bit integer.
    I16,
    /// Unsigned 16-bit integer.
    U16,
    /// IEEE 754 half precision.
    F16,
    /// bfloat16: the top 16 bits of an f32.
    BF16,
    /// Signed 32-bit integer.
    I32,
    /// Unsigned 32-bit integer.
    U32,
    /// IEEE 754 single precision.
    F32,
    /// IEEE 754 double precision.
    F64,
    /// Signed 64-bit integer.
    I64,
    /// Unsigned 64-bit integer.
    U64,
}

impl Dtype {
    /// The dtype's name as the header writes it (`"F32"`, `"BF16"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Dtype::Bool => "BOOL",
            Dtype::U8 => "U8",
            Dtype::I8 => "I8",
            Dtype::F8E5M2 => "F8_E5M2",
            Dtype::F8E4M3 => "F8_E4M3",
            Dtype::I16 => "I16",
            Dtype::U16 => "U16",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
            Dtype::I32 => "I32",
            Dtype::U32 => "U32",
            Dtype::F32 => "F32",
            Dtype::F64 => "F64",
            Dtype::I64 => "I64",
            Dtype::U64 => "U64",
        }
    }

    /// Parses a header dtype name; `None` for names the format does not define.
    pub fn from_name(name: &str) -> Option<Dtype> {
        Some(match name {
            "BOOL" => Dtype::Bool,
            "U8" => Dtype::U8,
            "I8" => Dtype::I8,
            "F8_E5M2" => Dtype::F8E5M2,
            "F8_E4M3" => Dtype::F8E4M3,
            "I16" => Dtype::I16,
            "U16" => Dtype::U16,
            "F16" => Dtype::F16,
            "BF16" => Dtype::BF16,
            "I32" => Dtype::I32,
            "U32" => Dtype::U32,
            "F32" => Dtype::F32,
            "F64" => Dtype::F64,
            "I64" => Dtype::I64,
            "U64" => Dtype::U64,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::Bool | Dtype::U8 | Dtype::I8 | Dtype::F8E5M2 | Dtype::F8E4M3 => 1,
            Dtype::I16 | Dtype::U16 | Dtype::F16 | Dtype::BF16 => 2,
            Dtype::I32 | Dtype::U32 | Dtype::F32 => 4,
            Dtype::F64 | Dtype::I64 | Dtype::U64 => 8,
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can be wrong with safetensors bytes (or with tensors handed to
/// [`serialize`]). Variants about one tensor carry its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SafetensorsError {
    /// Fewer than the 8 bytes of the header length.
    TooShort {
        /// Length of the input in bytes.
        len: usize,
    },
    /// The header length exceeds [`MAX_HEADER_LEN`].
    HeaderTooLarge {
        /// The header length the file declares.
        header_len: u64,
    },
    /// The header length points past the end of the input.
    HeaderPastEnd {
        /// The header length the file declares.
        header_len: u64,
        /// Bytes available after the 8-byte length.
        available: usize,
    },
    /// The header is not valid JSON, or not a JSON object.
    InvalidHeader {
        /// What the JSON parser reported.
        message: String,
    },
    /// `__metadata__` is not an object of strings.
    InvalidMetadata,
    /// A tensor's entry lacks a field or has one of the wrong type.
    InvalidEntry {
        /// The tensor.
        name: String,
        /// Which field is wrong and how.
        reason: &'static str,
    },
    /// A name appears twice in the header (or twice in the tensors to serialize).
    DuplicateTensor {
        /// The tensor.
        name: String,
    },
    /// A dtype name the format does not define.
    UnknownDtype {
        /// The tensor.
        name: String,
        /// The dtype string found.
        dtype: String,
    },
    /// The product of the shape (times the element size) overflows `usize`.
    ShapeOverflow {
        /// The tensor.
        name: String,
    },
    /// `data_offsets` has `begin > end`.
    OffsetsReversed {
        /// The tensor.
        name: String,
        /// First byte.
        begin: u64,
        /// One past the last byte.
        end: u64,
    },
    /// The byte range does not match `product(shape) * size_of(dtype)`.
    SizeMismatch {
        /// The tensor.
        name: String,
        /// Bytes the shape and dtype call for.
        expected_bytes: u64,
        /// Bytes the offsets span.
        found_bytes: u64,
    },
    /// The byte range ends past the data area.
    OffsetsPastEnd {
        /// The tensor.
        name: String,
        /// One past the last byte of the tensor.
        end: u64,
        /// Size of the data area.
        data_len: usize,
    },
    /// Two tensors share bytes.
    Overlap {
        /// The tensor that starts first.
        first: String,
        /// The tensor that starts inside it.
        second: String,
    },
    /// Bytes of the data area that no tensor covers (the format forbids holes).
    Gap {
        /// Start of the uncovered range.
        begin: u64,
        /// End of the uncovered range.
        end: u64,
    },
    /// The tensor's dtype cannot be converted to f32 by this reader.
    UnsupportedDtype {
        /// The tensor.
        name: String,
        /// Its dtype.
        dtype: Dtype,
    },
    /// A tensor handed to [`serialize`] has a data length that disagrees with its shape.
    DataLengthMismatch {
        /// The tensor.
        name: String,
        /// Elements the shape calls for.
        expected: usize,
        /// Elements given.
        found: usize,
    },
    /// A tensor handed to [`serialize`] uses the reserved name `__metadata__`.
    ReservedName,
}

impl fmt::Display for SafetensorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SafetensorsError as E;
        match self {
            E::TooShort { len } => write!(f, "safetensors: {len} bytes, need at least 8"),
            E::HeaderTooLarge { header_len } => write!(
                f,
                "safetensors: header length {header_len} exceeds the limit {MAX_HEADER_LEN}"
            ),
            E::HeaderPastEnd {
                header_len,
                available,
            } => write!(
                f,
                "safetensors: header length {header_len} but only {available} bytes follow"
            ),
            E::InvalidHeader { message } => write!(f, "safetensors: invalid header: {message}"),
            E::InvalidMetadata => f.write_str("safetensors: __metadata__ must map strings to strings"),
            E::InvalidEntry { name, reason } => {
                write!(f, "safetensors: tensor `{name}`: {reason}")
            }
            E::DuplicateTensor { name } => write!(f, "safetensors: tensor `{name}` appears twice"),
            E::UnknownDtype { name, dtype } => {
                write!(f, "safetensors: tensor `{name}`: unknown dtype `{dtype}`")
            }
            E::ShapeOverflow { name } => {
                write!(f, "safetensors: tensor `{name}`: shape size overflows")
            }
            E::OffsetsReversed { name, begin, end } => write!(
                f,
                "safetensors: tensor `{name}`: data_offsets [{begin}, {end}] run backwards"
            ),
            E::SizeMismatch {
                name,
                expected_bytes,
                found_bytes,
            } => write!(
                f,
                "safetensors: tensor `{name}`: shape and dtype need {expected_bytes} bytes, offsets span {found_bytes}"
            ),
            E::OffsetsPastEnd {
                name,
                end,
                data_len,
            } => write!(
                f,
                "safetensors: tensor `{name}`: ends at byte {end} of a {data_len}-byte data area"
            ),
            E::Overlap { first, second } => {
                write!(f, "safetensors: tensors `{first}` and `{second}` overlap")
            }
            E::Gap { begin, end } => {
                write!(f, "safetensors: data bytes {begin}..{end} belong to no tensor")
            }
            E::UnsupportedDtype { name, dtype } => write!(
                f,
                "safetensors: tensor `{name}`: dtype {dtype} cannot be read as f32 (F32, F16, BF16 can)"
            ),
            E::DataLengthMismatch {
                name,
                expected,
                found,
            } => write!(
                f,
                "safetensors: tensor `{name}`: shape needs {expected} elements, got {found}"
            ),
            E::ReservedName => write!(f, "safetensors: `{METADATA_KEY}` is not a tensor name"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SafetensorsError {}

/// One tensor of a parsed file: its header entry and its bytes, borrowed from the input.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorView<'a> {
    /// The name in the header.
    pub name: String,
    /// The element type.
    pub dtype: Dtype,
    /// The shape, outermost dimension first.
    pub shape: Vec<usize>,
    /// The raw little-endian bytes (`product(shape) * dtype.size()` of them).
    pub data: &'a [u8],
}

impl TensorView<'_> {
    /// Number of elements (`product(shape)`, 1 for a scalar).
    pub fn numel(&self) -> usize {
        self.data.len() / self.dtype.size()
    }

    /// The elements as f32: `F32` as stored, `F16` and `BF16` widened exactly.
    pub fn to_f32(&self) -> Result<Vec<f32>, SafetensorsError> {
        let mut out = Vec::with_capacity(self.numel());
        match self.dtype {
            Dtype::F32 => out.extend(
                self.data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            ),
            Dtype::F16 => out.extend(
                self.data
                    .chunks_exact(2)
                    .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))),
            ),
            Dtype::BF16 => out.extend(
                self.data
                    .chunks_exact(2)
                    .map(|b| bf16_to_f32(u16::from_le_bytes([b[0], b[1]]))),
            ),
            dtype => {
                return Err(SafetensorsError::UnsupportedDtype {
                    name: self.name.clone(),
                    dtype,
                })
            }
        }
        Ok(out)
    }
}

/// bfloat16 is the upper half of an f32, so widening is a shift.
pub fn bf16_to_f32(bits: u16) -> f32 {
    f32::from_bits(u32::from(bits) << 16)
}

/// IEEE 754 binary16 → binary32, exact for every input (subnormals, infinities, NaN payloads).
pub fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits >> 15) << 31;
    let exp = u32::from((bits >> 10) & 0x1f);
    let mant = u32::from(bits & 0x3ff);
    let out = match (exp, mant) {
        (0, 0) => sign,
        // Subnormal: value = mant · 2^-24; renormalise so the leading 1 becomes implicit.
        (0, _) => {
            let shift = mant.leading_zeros() - 21; // puts the top set bit at position 10
            let mant = (mant << shift) & 0x3ff;
            let exp = 127 - 15 + 1 - shift;
            sign | (exp << 23) | (mant << 13)
        }
        (0x1f, _) => sign | 0x7f80_0000 | (mant << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (mant << 13),
    };
    f32::from_bits(out)
}

/// A parsed, validated safetensors file borrowing its input.
#[derive(Clone, Debug, PartialEq)]
pub struct SafeTensors<'a> {
    tensors: Vec<TensorView<'a>>,
    metadata: BTreeMap<String, String>,
}

/// The header's top-level pairs in file order, duplicates kept (a map would hide them).
struct HeaderPairs(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for HeaderPairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor;
        impl<'de> Visitor<'de> for PairsVisitor {
            type Value = HeaderPairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderPairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, Value>()? {
                    pairs.push(pair);
                }
                Ok(HeaderPairs(pairs))
            }
        }
        deserializer.deserialize_map(PairsVisitor)
    }
}

/// A header entry before its byte range is checked against the others.
struct Entry {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    begin: u64,
    end: u64,
}

fn parse_entry(name: String, value: &Value) -> Result<Entry, SafetensorsError> {
    let invalid = |reason| SafetensorsError::InvalidEntry {
        name: name.clone(),
        reason,
    };
    let obj = value
        .as_object()
        .ok_or_else(|| invalid("entry is not an object"))?;
    let dtype_str = obj
        .get("dtype")
        .ok_or_else(|| invalid("missing `dtype`"))?
        .as_str()
        .ok_or_else(|| invalid("`dtype` is not a string"))?;
    let dtype = Dtype::from_name(dtype_str).ok_or_else(|| SafetensorsError::UnknownDtype {
        name: name.clone(),
        dtype: dtype_str.to_string(),
    })?;
    let shape_json = obj
        .get("shape")
        .ok_or_else(|| invalid("missing `shape`"))?
        .as_array()
        .ok_or_else(|| invalid("`shape` is not an array"))?;
    let mut shape = Vec::with_capacity(shape_json.len());
    for d in shape_json {
        let d = d
            .as_u64()
            .ok_or_else(|| invalid("`shape` holds a non-integer or negative dimension"))?;
        shape.push(
            usize::try_from(d)
                .map_err(|_| SafetensorsError::ShapeOverflow { name: name.clone() })?,
        );
    }
    let offsets = obj
        .get("data_offsets")
        .ok_or_else(|| invalid("missing `data_offsets`"))?
        .as_array()
        .ok_or_else(|| invalid("`data_offsets` is not an array"))?;
    let [begin, end] = offsets.as_slice() else {
        return Err(invalid("`data_offsets` does not hold two numbers"));
    };
    let (Some(begin), Some(end)) = (begin.as_u64(), end.as_u64()) else {
        return Err(invalid(
            "`data_offsets` holds a non-integer or negative offset",
        ));
    };
    if begin > end {
        return Err(SafetensorsError::OffsetsReversed { name, begin, end });
    }
    let expected_bytes = shape
        .iter()
        .try_fold(dtype.size() as u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| SafetensorsError::ShapeOverflow { name: name.clone() })?;
    if expected_bytes != end - begin {
        return Err(SafetensorsError::SizeMismatch {
            name,
            expected_bytes,
            found_bytes: end - begin,
        });
    }
    Ok(Entry {
        name,
        dtype,
        shape,
        begin,
        end,
    })
}

impl<'a> SafeTensors<'a> {
    /// Parses and validates `bytes` (see the module docs for every check).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SafetensorsError> {
        let Some((len_bytes, rest)) = bytes.split_first_chunk::<8>() else {
            return Err(SafetensorsError::TooShort { len: bytes.len() });
        };
        let header_len = u64::from_le_bytes(*len_bytes);
        if header_len > MAX_HEADER_LEN {
            return Err(SafetensorsError::HeaderTooLarge { header_len });
        }
        let header_end = match usize::try_from(header_len) {
            Ok(n) if n <= rest.len() => n,
            _ => {
                return Err(SafetensorsError::HeaderPastEnd {
                    header_len,
                    available: rest.len(),
                })
            }
        };
        let (header, data) = rest.split_at(header_end);
        let pairs: HeaderPairs =
            serde_json::from_slice(header).map_err(|e| SafetensorsError::InvalidHeader {
                message: e.to_string(),
            })?;

        let mut metadata = None;
        let mut entries = Vec::with_capacity(pairs.0.len());
        let mut seen = BTreeMap::new();
        for (name, value) in pairs.0 {
            if seen.insert(name.clone(), ()).is_some() {
                return Err(SafetensorsError::DuplicateTensor { name });
            }
            if name == METADATA_KEY {
                metadata = Some(parse_metadata(&value)?);
            } else {
                entries.push(parse_entry(name, &value)?);
            }
        }

        // The tensors must tile the data area: sorted by start, each begins where the
        // previous ended, and the last ends at the end of the input.
        entries.sort_by_key(|e| (e.begin, e.end));
        let mut covered: u64 = 0;
        let mut last_name: Option<&str> = None;
        for e in &entries {
            if e.end > data.len() as u64 {
                return Err(SafetensorsError::OffsetsPastEnd {
                    name: e.name.clone(),
                    end: e.end,
                    data_len: data.len(),
                });
            }
            if e.begin < covered {
                return Err(SafetensorsError::Overlap {
                    first: last_name.unwrap_or_default().to_string(),
                    second: e.name.clone(),
                });
            }
            if e.begin > covered {
                return Err(SafetensorsError::Gap {
                    begin: covered,
                    end: e.begin,
                });
            }
            covered = e.end;
            last_name = Some(&e.name);
        }
        if covered != data.len() as u64 {
            return Err(SafetensorsError::Gap {
                begin: covered,
                end: data.len() as u64,
            });
        }

        let tensors = entries
            .into_iter()
            .map(|e| TensorView {
                // Bounds were checked above; the casts cannot truncate.
                data: &data[e.begin as usize..e.end as usize],
                name: e.name,
                dtype: e.dtype,
                shape: e.shape,
            })
            .collect();
        Ok(SafeTensors {
            tensors,
            metadata: metadata.unwrap_or_default(),
        })
    }

    /// All tensors, in the order of their bytes in the file.
    pub fn tensors(&self) -> &[TensorView<'a>] {
        &self.tensors
    }

    /// The tensor called `name`, if present.
    pub fn get(&self, name: &str) -> Option<&TensorView<'a>> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The `__metadata__` map (empty when the header has none).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }
}

fn parse_metadata(value: &Value) -> Result<BTreeMap<String, String>, SafetensorsError> {
    let obj = value.as_object().ok_or(SafetensorsError::InvalidMetadata)?;
    obj.iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s.to_string()))
                .ok_or(SafetensorsError::InvalidMetadata)
        })
        .collect()
}

/// An f32 tensor to write: name, shape (outermost first) and row-major elements.
#[derive(Clone, Copy, Debug)]
pub struct TensorRef<'a> {
    /// The name in the header.
    pub name: &'a str,
    /// The shape; `product(shape)` must equal `data.len()`.
    pub shape: &'a [usize],
    /// Row-major elements.
    pub data: &'a [f32],
}

/// Writes f32 `tensors`, in the order given, with `metadata` as the `__metadata__` map.
///
/// The result parses back with [`SafeTensors::parse`] to the same names, shapes and bits.
pub fn serialize(
    tensors: &[TensorRef<'_>],
    metadata: &[(&str, &str)],
) -> Result<Vec<u8>, SafetensorsError> {
    let mut seen = BTreeMap::new();
    for t in tensors {
        if t.name == METADATA_KEY {
            return Err(SafetensorsError::ReservedName);
        }
        if seen.insert(t.name, ()).is_some() {
            return Err(SafetensorsError::DuplicateTensor {
                name: t.name.to_string(),
            });
        }
        let expected = t
            .shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| SafetensorsError::ShapeOverflow {
                name: t.name.to_string(),
            })?;
        if expected != t.data.len() {
            return Err(SafetensorsError::DataLengthMismatch {
                name: t.name.to_string(),
                expected,
                found: t.data.len(),
            });
        }
    }

    let mut header = String::from("{");
    if !metadata.is_empty() {
        header.push_str(&json_string(METADATA_KEY));
        header.push_str(":{");
        for (i, (k, v)) in metadata.iter().enumerate() {
            if i > 0 {
                header.push(',');
            }
            header.push_str(&json_string(k));
            header.push(':');
            header.push_str(&json_string(v));
        }
        header.push('}');
    }
    let mut offset = 0usize;
    for (i, t) in tensors.iter().enumerate() {
        if i > 0 || !metadata.is_empty() {
            header.push(',');
        }
        let end = offset + 4 * t.data.len();
        let shape: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
        header.push_str(&format!(
            "{}:{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{offset},{end}]}}",
            json_string(t.name),
            shape.join(",")
        ));
        offset = end;
    }
    header.push('}');
    // Pad with spaces (valid JSON whitespace) so the data starts 8-byte aligned.
    while header.len() % 8 != 0 {
        header.push(' ');
    }

    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for t in tensors {
        for x in t.data {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    Ok(out)
}

/// A JSON string literal with the escapes JSON requires.
fn json_string(s: &str) -> String {
    // Serialising a &str cannot fail.
    serde_json::to_string(s).expect("a str always serialises to JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn f16_conversion_matches_hand_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95); // nearest half to 1/3
        assert_eq!(f16_to_f32(0x7bff), 65504.0); // largest finite half
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24)); // smallest subnormal
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24)); // largest subnormal
        assert_eq!(f16_to_f32(0x0400), 2f32.powi(-14)); // smallest normal
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000); // -0
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn bf16_conversion_is_the_upper_half() {
        assert_eq!(bf16_to_f32(0x3f80), 1.0);
        assert_eq!(bf16_to_f32(0xc040), -3.0);
        assert_eq!(bf16_to_f32(0x4049), f32::from_bits(0x4049_0000));
    }

    #[test]
    fn header_is_padded_and_metadata_first() {
        let bytes = serialize(
            &[TensorRef {
                name: "a\"b",
                shape: &[],
                data: &[7.5],
            }],
            &[("format", "pt")],
        )
        .unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!(n % 8, 0);
        let header = core::str::from_utf8(&bytes[8..8 + n]).unwrap();
        assert!(header.starts_with("{\"__metadata__\":{\"format\":\"pt\"},\"a\\\"b\":"));
        let file = SafeTensors::parse(&bytes).unwrap();
        assert_eq!(file.get("a\"b").unwrap().shape, Vec::<usize>::new());
        assert_eq!(file.get("a\"b").unwrap().to_f32().unwrap(), vec![7.5]);
    }

    #[test]
    fn half_precision_tensors_widen_on_read() {
        let header = br#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f]);
        let file = SafeTensors::parse(&bytes).unwrap();
        assert_eq!(file.get("h").unwrap().to_f32().unwrap(), vec![1.0, -2.0]);
        assert_eq!(file.get("b").unwrap().to_f32().unwrap(), vec![1.0]);
    }
}

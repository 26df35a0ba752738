//! A row group's columns as they are gathered before they go to a Parquet file, and the
//! Parquet type each one is written as.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, FixedLenByteArray, FixedLenByteArrayType, Int64Type,
};
use parquet::file::writer::SerializedColumnWriter;
use parquet::schema::types::Type;

use super::decimal::Decimal;

/// How a column is stored, as SQL engines see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Bool,
    Text,
    /// JSON text, marked as JSON (DuckDB reads it as its JSON type).
    Json,
    /// A UTC instant in this many fraction digits: 3 milliseconds, 6 micro, 9 nano.
    Time(u8),
    /// An exact decimal with this many fraction digits (38 digits in all).
    Decimal(u8),
}

/// The precision every decimal column is written with: the most a 16-byte value holds.
pub const DECIMAL_DIGITS: u32 = 38;

impl Kind {
    /// Whether a column of this kind can store `cell` as it is.
    fn holds(self, cell: &Cell) -> bool {
        match (self, cell) {
            (_, Cell::Null) => true,
            (Kind::Int, Cell::Int(_)) | (Kind::Bool, Cell::Bool(_)) => true,
            (Kind::Text | Kind::Json, Cell::Text(_)) => true,
            (Kind::Time(9), Cell::Time(t)) => fits_nanos(*t),
            (Kind::Time(_), Cell::Time(_)) => true,
            (Kind::Decimal(scale), Cell::Decimal(d)) => d.unscaled(scale).is_some(),
            _ => false,
        }
    }

    fn parquet_type(self, name: &str, required: bool) -> parquet::errors::Result<Type> {
        let (physical, logical) = match self {
            Kind::Int => (Physical::INT64, None),
            Kind::Bool => (Physical::BOOLEAN, None),
            Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
            Kind::Json => (Physical::BYTE_ARRAY, Some(LogicalType::Json)),
            Kind::Time(digits) => (
                Physical::INT64,
                Some(LogicalType::timestamp(true, time_unit(digits))),
            ),
            Kind::Decimal(scale) => (
                Physical::FIXED_LEN_BYTE_ARRAY,
                Some(LogicalType::decimal(scale.into(), DECIMAL_DIGITS as i32)),
            ),
        };
        let mut b = Type::primitive_type_builder(name, physical)
            .with_repetition(if required {
                Repetition::REQUIRED
            } else {
                Repetition::OPTIONAL
            })
            .with_logical_type(logical);
        if let Kind::Decimal(scale) = self {
            b = b
                .with_length(16)
                .with_precision(DECIMAL_DIGITS as i32)
                .with_scale(scale.into());
        }
        b.build()
    }
}

/// The Parquet unit for a time with `digits` fraction digits: the coarsest that holds them.
fn time_unit(digits: u8) -> TimeUnit {
    match digits {
        0..=3 => TimeUnit::MILLIS,
        4..=6 => TimeUnit::MICROS,
        _ => TimeUnit::NANOS,
    }
}

/// The smallest of the three units' digit counts that holds `digits`.
pub fn unit_digits(digits: usize) -> u8 {
    match digits {
        0..=3 => 3,
        4..=6 => 6,
        _ => 9,
    }
}

/// One value as gathered; `Null` where the row has none.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Time(DateTime<Utc>),
    Decimal(Decimal),
}

/// A named column of one row group.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    pub required: bool,
    pub cells: Vec<Cell>,
}

impl Column {
    pub fn new(name: &str, kind: Kind, required: bool) -> Column {
        Column {
            name: name.to_string(),
            kind,
            required,
            cells: Vec::with_capacity(super::GROUP_ROWS),
        }
    }

    pub fn field(&self) -> parquet::errors::Result<Arc<Type>> {
        Ok(Arc::new(self.kind.parquet_type(&self.name, self.required)?))
    }

    /// Writes the cells (the column is empty after, its room kept) to `out`.
    pub fn write(&mut self, out: &mut SerializedColumnWriter) -> parquet::errors::Result<()> {
        let mut cells = std::mem::take(&mut self.cells);
        // A cell the kind cannot hold is written as null, so that values and definition
        // levels always agree (a time beyond 1677–2262 in nanoseconds: the `timestamp`
        // text keeps it).
        for c in cells.iter_mut() {
            if !self.kind.holds(c) {
                *c = Cell::Null;
            }
        }
        let defs: Vec<i16> = cells.iter().map(|c| i16::from(*c != Cell::Null)).collect();
        let defs = (!self.required).then_some(&defs[..]);
        match self.kind {
            Kind::Int => {
                let v = values(&mut cells, |c| match c {
                    Cell::Int(i) => Some(i),
                    _ => None,
                });
                out.typed::<Int64Type>().write_batch(&v, defs, None)?;
            }
            Kind::Time(digits) => {
                let v = values(&mut cells, |c| match c {
                    Cell::Time(t) => Some(in_unit(t, digits)),
                    _ => None,
                });
                out.typed::<Int64Type>().write_batch(&v, defs, None)?;
            }
            Kind::Bool => {
                let v = values(&mut cells, |c| match c {
                    Cell::Bool(b) => Some(b),
                    _ => None,
                });
                out.typed::<BoolType>().write_batch(&v, defs, None)?;
            }
            Kind::Text | Kind::Json => {
                let v = values(&mut cells, |c| match c {
                    Cell::Text(s) => Some(ByteArray::from(s.into_bytes())),
                    _ => None,
                });
                out.typed::<ByteArrayType>().write_batch(&v, defs, None)?;
            }
            Kind::Decimal(scale) => {
                let v = values(&mut cells, |c| match c {
                    Cell::Decimal(d) => d
                        .unscaled(scale)
                        .map(|n| FixedLenByteArray::from(n.to_be_bytes().to_vec())),
                    _ => None,
                });
                out.typed::<FixedLenByteArrayType>()
                    .write_batch(&v, defs, None)?;
            }
        }
        self.cells = cells;
        Ok(())
    }
}

/// The non-null cells' values, in order; `cells` is left empty with its room.
fn values<T>(cells: &mut Vec<Cell>, value: impl FnMut(Cell) -> Option<T>) -> Vec<T> {
    cells.drain(..).filter_map(value).collect()
}

/// `t` counted in the unit of `digits` (nanoseconds only where they fit).
fn in_unit(t: DateTime<Utc>, digits: u8) -> i64 {
    match digits {
        0..=3 => t.timestamp_millis(),
        4..=6 => t.timestamp_micros(),
        _ => t.timestamp_nanos_opt().unwrap_or_default(),
    }
}

/// Whether an instant can be counted in nanoseconds in 64 bits.
fn fits_nanos(t: DateTime<Utc>) -> bool {
    t.timestamp_nanos_opt().is_some()
}

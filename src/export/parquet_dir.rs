//! A folder of Parquet files written a row group at a time: a new file when the open one
//! holds its share of rows or when a row group's columns differ from the file's.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use super::columns::{Column, Kind};
use super::ExportError;

/// A column's name, kind and whether it is never null: what a file's schema is made of.
pub type ColumnSpec = (String, Kind, bool);

struct OpenFile {
    writer: SerializedFileWriter<BufWriter<File>>,
    columns: Vec<ColumnSpec>,
    rows: u64,
    partial: PathBuf,
    path: PathBuf,
}

pub struct ParquetDir {
    dir: PathBuf,
    prefix: &'static str,
    rows_per_file: u64,
    metadata: Vec<(String, String)>,
    open: Option<OpenFile>,
    written: Vec<PathBuf>,
}

impl ParquetDir {
    /// Files `prefix-00001.parquet`, … in `dir`, each with `metadata` as its key-value
    /// pairs (the store, the reducer, the filter).
    pub fn new(
        dir: &Path,
        prefix: &'static str,
        rows_per_file: u64,
        metadata: Vec<(String, String)>,
    ) -> ParquetDir {
        ParquetDir {
            dir: dir.to_path_buf(),
            prefix,
            rows_per_file: rows_per_file.max(1),
            metadata,
            open: None,
            written: Vec::new(),
        }
    }

    /// The open file's columns, for a row group that would rather fit them.
    pub fn open_columns(&self) -> Option<&[ColumnSpec]> {
        self.open.as_ref().map(|f| &f.columns[..])
    }

    /// Rows the next row group may hold: what the open file has room for, at most
    /// [`GROUP_ROWS`](super::GROUP_ROWS), so that files hold `rows_per_file` rows each.
    pub fn group_rows(&self) -> usize {
        let used = self.open.as_ref().map_or(0, |f| f.rows);
        let room = match self.rows_per_file.saturating_sub(used) {
            0 => self.rows_per_file,
            n => n,
        };
        usize::try_from(room)
            .unwrap_or(usize::MAX)
            .min(super::GROUP_ROWS)
    }

    /// Writes `columns` (emptied) as one row group.
    pub fn write_group(&mut self, columns: &mut [Column]) -> Result<(), ExportError> {
        let rows = columns.first().map_or(0, |c| c.cells.len()) as u64;
        if rows == 0 {
            return Ok(());
        }
        let specs: Vec<ColumnSpec> = columns
            .iter()
            .map(|c| (c.name.clone(), c.kind, c.required))
            .collect();
        if self
            .open
            .as_ref()
            .is_some_and(|f| f.columns != specs || f.rows >= self.rows_per_file)
        {
            self.close_file()?;
        }
        if self.open.is_none() {
            self.open = Some(self.create_file(columns, specs)?);
        }
        let Some(file) = self.open.as_mut() else {
            return Ok(());
        };
        let mut group = file.writer.next_row_group()?;
        for column in columns.iter_mut() {
            let Some(mut out) = group.next_column()? else {
                return Err(ExportError::Parquet(format!(
                    "no column {} in the file's schema",
                    column.name
                )));
            };
            column.write(&mut out)?;
            out.close()?;
        }
        group.close()?;
        file.rows += rows;
        Ok(())
    }

    fn create_file(
        &mut self,
        columns: &[Column],
        specs: Vec<ColumnSpec>,
    ) -> Result<OpenFile, ExportError> {
        let fields = columns
            .iter()
            .map(Column::field)
            .collect::<Result<Vec<_>, _>>()?;
        let schema = Arc::new(
            Type::group_type_builder("schema")
                .with_fields(fields)
                .build()?,
        );
        let name = format!("{}-{:05}.parquet", self.prefix, self.written.len() + 1);
        let path = self.dir.join(&name);
        let partial = self.dir.join(format!("{name}.partial"));
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&partial)
            .map_err(|e| ExportError::Io {
                path: partial.clone(),
                error: e,
            })?;
        let metadata = self
            .metadata
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
            .collect();
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("eventscope {}", env!("CARGO_PKG_VERSION")))
            .set_key_value_metadata(Some(metadata))
            .build();
        let writer = SerializedFileWriter::new(
            BufWriter::with_capacity(1 << 20, file),
            schema,
            Arc::new(properties),
        )?;
        Ok(OpenFile {
            writer,
            columns: specs,
            rows: 0,
            partial,
            path,
        })
    }

    fn close_file(&mut self) -> Result<(), ExportError> {
        let Some(file) = self.open.take() else {
            return Ok(());
        };
        let out = file.writer.into_inner()?;
        out.into_inner()
            .map_err(|e| ExportError::Io {
                path: file.partial.clone(),
                error: e.into_error(),
            })?
            .sync_all()
            .map_err(|e| ExportError::Io {
                path: file.partial.clone(),
                error: e,
            })?;
        // Only whole files get a `.parquet` name: an export that fails leaves no file
        // a reader would take for complete.
        std::fs::rename(&file.partial, &file.path).map_err(|e| ExportError::Io {
            path: file.path.clone(),
            error: e,
        })?;
        self.written.push(file.path);
        Ok(())
    }

    /// Closes the open file; the files written, in order.
    pub fn finish(mut self) -> Result<Vec<PathBuf>, ExportError> {
        self.close_file()?;
        Ok(std::mem::take(&mut self.written))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::columns::Cell;
    use crate::export::decimal::Decimal;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    /// A cell its column cannot hold (more decimals than the scale, a time nanoseconds
    /// cannot count) is written as null, the rows around it in place.
    #[test]
    fn cells_a_column_cannot_hold_are_nulls_and_the_rows_stay_aligned() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = ParquetDir::new(dir.path(), "t", 10, Vec::new());
        let far = chrono::DateTime::parse_from_rfc3339("2300-01-01T00:00:00Z").unwrap();
        let near = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00.5Z").unwrap();
        let mut amount = Column::new("amount", Kind::Decimal(1), false);
        amount.cells = ["1.5", "0.25", "7"]
            .map(|t| Cell::Decimal(Decimal::parse(t).unwrap()))
            .to_vec();
        let mut time = Column::new("time", Kind::Time(9), false);
        time.cells = vec![
            Cell::Time(far.to_utc()),
            Cell::Null,
            Cell::Time(near.to_utc()),
        ];
        out.write_group(&mut [amount, time]).unwrap();
        let files = out.finish().unwrap();
        let reader = SerializedFileReader::new(File::open(&files[0]).unwrap()).unwrap();
        let rows: Vec<String> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().to_string())
            .collect();
        assert_eq!(rows.len(), 3);
        assert!(
            rows[0].contains("amount: 1.5") && rows[0].contains("time: null"),
            "{rows:?}"
        );
        assert!(rows[1].contains("amount: null"), "{rows:?}");
        assert!(
            rows[2].contains("amount: 7.0") && rows[2].contains("time: 1704067200500000000"),
            "{rows:?}"
        );
    }
}

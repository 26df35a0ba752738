//! A store's defaults, so that a team need not repeat `--reducer` and `--format` on every
//! command: `EVENTSCOPE_REDUCER`, a `.eventscope.toml` beside the store, or a `reducers/`
//! folder beside it. Every answer names where its reducer came from.

use std::path::{Path, PathBuf};

/// The file beside a store (or, for a URL or no store, in the working directory) that
/// names its reducer, layout and map.
pub const FILE_NAME: &str = ".eventscope.toml";
/// The folder of `<category>.jq` reducers looked for beside a store file.
pub const REDUCERS_DIR: &str = "reducers";
/// The folder of `<Type>.jq` upcasters looked for beside a store file or its reducers.
pub const UPCASTERS_DIR: &str = "upcasters";
/// The environment variable naming a reducer for every store.
pub const REDUCER_VAR: &str = "EVENTSCOPE_REDUCER";
/// Written for a reducer (flag, variable or file): the built-in merge, looking no further.
pub const MERGE_WORD: &str = "merge";

const MOST_BYTES: u64 = 64 * 1024;

/// A reducer's name as every header gives it: with where the store's defaults named it,
/// when they did (`reducers/Account.jq (from EVENTSCOPE_REDUCER)`).
pub fn named_from(name: &str, origin: Option<&str>) -> String {
    match origin {
        Some(origin) => format!("{name} (from {origin})"),
        None => name.to_string(),
    }
}

/// What `.eventscope.toml` may say; paths in it are relative to its folder.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    reducer: Option<String>,
    #[serde(alias = "format")]
    layout: Option<String>,
    map: Option<String>,
    snapshot_map: Option<String>,
    upcasters: Option<String>,
}

/// A reducer chosen without `--reducer`, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultReducer {
    /// `None`: the built-in merge, said so by the variable or the file.
    pub path: Option<PathBuf>,
    /// Where it was named, for every header: `EVENTSCOPE_REDUCER`, `./.eventscope.toml`, …
    pub origin: String,
}

/// What a store's surroundings say about how to read it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Defaults {
    pub reducer: Option<DefaultReducer>,
    pub layout: Option<String>,
    pub map: Option<String>,
    pub snapshot_map: Option<PathBuf>,
    /// A folder of upcasters, and where it was named (see [`upcasters_beside`]).
    pub upcasters: Option<(PathBuf, String)>,
}

/// The folder a store's defaults are looked for in: a store file's own, else (a URL, which
/// is no file, or a command without a store) the working directory.
fn home_of(store: Option<&Path>) -> PathBuf {
    match store.filter(|s| s.is_file()).and_then(Path::parent) {
        Some(p) if p.as_os_str().is_empty() => PathBuf::from("."),
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("."),
    }
}

/// Looks for the defaults of `store`: the variable's value (`env`) first, then the file,
/// then a `reducers/` folder. A file that cannot be read or says what it may not is an
/// error, not a default passed over.
pub fn find(store: Option<&Path>, env: Option<&str>) -> Result<Defaults, String> {
    let home = home_of(store);
    let mut found = Defaults::default();
    let file_path = home.join(FILE_NAME);
    if file_path.exists() {
        let text = crate::files::read_bounded(&file_path, MOST_BYTES, "settings file")?;
        let file: File = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map_or(1, |s| text[..s.start].matches('\n').count() + 1);
            format!(
                "{} line {line}: {}",
                file_path.display(),
                e.message().trim()
            )
        })?;
        let at = |p: &str| home.join(p);
        found.reducer = file.reducer.map(|r| DefaultReducer {
            path: (r != MERGE_WORD || at(&r).exists()).then(|| at(&r)),
            origin: file_path.display().to_string(),
        });
        found.layout = file.layout;
        found.map = file.map.map(|m| match at(&m).is_file() {
            true => at(&m).display().to_string(),
            false => m,
        });
        found.snapshot_map = file.snapshot_map.map(|p| at(&p));
        found.upcasters = file
            .upcasters
            .map(|p| (at(&p), file_path.display().to_string()));
    }
    if let Some(value) = env.filter(|v| !v.is_empty()) {
        found.reducer = Some(DefaultReducer {
            path: (value != MERGE_WORD || Path::new(value).exists()).then(|| value.into()),
            origin: REDUCER_VAR.to_string(),
        });
    }
    if found.reducer.is_none()
        && store.is_some_and(|s| !crate::store::is_url(&s.display().to_string()))
    {
        let dir = home.join(REDUCERS_DIR);
        if dir.is_dir() {
            found.reducer = Some(DefaultReducer {
                path: Some(dir.clone()),
                origin: format!("{} beside the store", dir.display()),
            });
        }
    }
    if found.upcasters.is_none()
        && store.is_some_and(|s| !crate::store::is_url(&s.display().to_string()))
    {
        let dir = home.join(UPCASTERS_DIR);
        if dir.is_dir() {
            let origin = format!("{} beside the store", dir.display());
            found.upcasters = Some((dir, origin));
        }
    }
    Ok(found)
}

/// The `upcasters/` folder beside a reducer (a file's folder, or beside a folder of
/// reducers), if there is one: where a team keeps them with the reducers they feed.
pub fn upcasters_beside(reducer: &Path) -> Option<(PathBuf, String)> {
    let folder = reducer.parent()?;
    let dir = match folder.as_os_str().is_empty() {
        true => PathBuf::from(UPCASTERS_DIR),
        false => folder.join(UPCASTERS_DIR),
    };
    dir.is_dir().then(|| {
        let origin = format!("{} beside the reducers", dir.display());
        (dir, origin)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_variable_wins_over_the_file_and_the_file_over_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s.db");
        write(&store, "");
        assert_eq!(find(Some(&store), None).unwrap(), Defaults::default());
        std::fs::create_dir(dir.path().join("reducers")).unwrap();
        let d = find(Some(&store), None).unwrap();
        assert_eq!(d.reducer.unwrap().path, Some(dir.path().join("reducers")));
        write(
            &dir.path().join(FILE_NAME),
            "reducer = \"r/Account.jq\"\nlayout = \"emmett\"\n",
        );
        let d = find(Some(&store), None).unwrap();
        let r = d.reducer.unwrap();
        assert_eq!(r.path, Some(dir.path().join("r/Account.jq")));
        assert!(r.origin.ends_with(FILE_NAME), "{}", r.origin);
        assert_eq!(d.layout.as_deref(), Some("emmett"));
        let d = find(Some(&store), Some("/x/y.jq")).unwrap();
        let r = d.reducer.unwrap();
        assert_eq!(
            (r.path, r.origin.as_str()),
            (Some("/x/y.jq".into()), REDUCER_VAR)
        );
        let d = find(Some(&store), Some("merge")).unwrap();
        assert_eq!(d.reducer.unwrap().path, None);
    }

    #[test]
    fn a_wrong_file_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s.db");
        write(&store, "");
        write(&dir.path().join(FILE_NAME), "reduce = \"x.jq\"\n");
        let e = find(Some(&store), None).unwrap_err();
        assert!(e.contains(FILE_NAME) && e.contains("reduce"), "{e}");
    }
}

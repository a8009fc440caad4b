"""A WebAssembly engine in pure Python (public API; filled in by the runtime stage)."""

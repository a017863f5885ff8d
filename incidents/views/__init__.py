"""Server-rendered pages, one module per page group. Views stay thin: read, render."""

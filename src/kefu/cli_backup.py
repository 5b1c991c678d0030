"""``kefu backup PATH`` and ``kefu restore PATH``: one archive of the database and the
attachments, and its restore into an empty database and data folder (services/backups/)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def backup(
    path: Annotated[Path, typer.Argument(help="The archive to write (a new .tar.gz file).")],
) -> None:
    """Write the database (a consistent snapshot, while kefu keeps running) and the attachments
    into one archive, with a manifest of rows per table and each file's SHA-256."""
    from kefu.services.backups.manifest import BackupError
    from kefu.services.backups.service import make_backup
    from kefu.settings import get_settings

    try:
        manifest = make_backup(get_settings(), path)
    except BackupError as e:
        typer.echo(f"备份失败：{e}", err=True)
        raise typer.Exit(e.exit_code) from e
    rows = sum(manifest.tables.values())
    size = path.stat().st_size
    typer.echo(
        f"已备份到 {path}（{size:,} 字节）：{manifest.database_kind} 数据库，"
        f"迁移版本 {manifest.revision or '-'}，{len(manifest.tables)} 张表 {rows:,} 行，"
        f"附件 {len(manifest.attachments):,} 个"
    )


def restore(
    path: Annotated[Path, typer.Argument(help="An archive written by kefu backup.")],
) -> None:
    """Restore an archive into the configured database and data folder, which must be empty
    (of the same database kind as the backup); check every table's rows and every file after."""
    from kefu.services.backups.manifest import BackupError
    from kefu.services.backups.service import restore_backup
    from kefu.settings import get_settings

    try:
        report = restore_backup(get_settings(), path)
    except BackupError as e:
        typer.echo(f"恢复失败：{e}", err=True)
        raise typer.Exit(e.exit_code) from e
    manifest = report.manifest
    typer.echo(
        f"已恢复 {path}（备份于 {manifest.created_at}，kefu {manifest.kefu_version}）："
        f"{manifest.database_kind} 数据库，迁移版本 {manifest.revision or '-'}，"
        f"{len(manifest.tables)} 张表 {report.rows:,} 行，"
        f"附件 {len(manifest.attachments):,} 个（{report.attachment_bytes:,} 字节）；"
        "行数与文件校验均一致"
    )

package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/cfissuer/cfissuer/edge"
)

// Courses are the courses whose HLS streams PrepareContent generates.
var Courses = []string{"go-101", "rust-201"}

// contentVersion names the generated content; change it when the ffmpeg
// command changes, so stale caches are rebuilt.
const contentVersion = "content-v2"

// PrepareContent fills dir with what the edge serves in the journeys: the
// edge's sample content (an ebook, a logo), a style sheet (assets/site.css)
// and, for each of Courses, a
// real HLS stream that ffmpeg makes from a generated test pattern and tone:
// courses/<id>/index.m3u8 (the master playlist), two renditions
// (v0: 640x360, v1: 320x180), each with its playlist and 2-second MPEG-TS
// segments. It is a no-op when dir already holds this version.
func PrepareContent(ctx context.Context, dir string) error {
	stamp := filepath.Join(dir, ".version")
	if b, err := os.ReadFile(stamp); err == nil && string(b) == contentVersion {
		return nil
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return errors.New("devstack: ffmpeg is required to generate the HLS test content: apt-get install ffmpeg (or make e2e-deps)")
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.CopyFS(dir, edge.SampleContent()); err != nil {
		return fmt.Errorf("devstack: sample content: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "assets", "site.css"), []byte(siteCSS), 0o644); err != nil {
		return err
	}
	for _, c := range Courses {
		out := filepath.Join(dir, "courses", c)
		if err := os.RemoveAll(out); err != nil {
			return err
		}
		for _, v := range []string{"v0", "v1"} {
			if err := os.MkdirAll(filepath.Join(out, v), 0o755); err != nil {
				return err
			}
		}
		cmd := exec.CommandContext(ctx, ffmpeg, hlsArgs()...)
		cmd.Dir = out
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("devstack: ffmpeg for %s: %w: %s", c, err, stderr.Bytes())
		}
	}
	return os.WriteFile(stamp, []byte(contentVersion), 0o644)
}

// LessonSeconds is the length of each generated lesson.
const LessonSeconds = 12

// hlsArgs is the ffmpeg command that writes a master playlist and two
// H.264/AAC renditions into the working directory.
func hlsArgs() []string {
	d := fmt.Sprint(LessonSeconds)
	return []string{
		"-hide_banner", "-loglevel", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=" + d,
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=" + d,
		"-filter_complex", "[0:v]split=2[a][b];[b]scale=320:180[small]",
		"-map", "[a]", "-map", "1:a", "-map", "[small]", "-map", "1:a",
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
		"-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
		"-b:v:0", "800k", "-b:v:1", "250k", "-c:a", "aac", "-b:a", "64k", "-ac", "2",
		"-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_flags", "independent_segments",
		"-hls_segment_filename", "v%v/seg-%03d.ts",
		"-master_pl_name", "index.m3u8",
		"-var_stream_map", "v:0,a:0 v:1,a:1",
		"v%v/index.m3u8",
	}
}

// siteCSS is the signed style sheet of the assets example.
const siteCSS = `body { font: 16px system-ui, sans-serif; margin: 2rem; background: rgb(240, 244, 250); color: #1d2330; }
header { display: flex; align-items: center; gap: 1rem; }
header img { width: 64px; height: 64px; }
nav a { margin-right: 1rem; }
`

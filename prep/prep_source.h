/* prep_source.h: the input collections alexnet-prep understands. Each fills
 * a prep_listing (classes + sorted items per split) without decoding images. */
#ifndef ALEXNET_PREP_SOURCE_H
#define ALEXNET_PREP_SOURCE_H

#include "prep_listing.h"
#include "status.h"

/* IDX (MNIST / Fashion-MNIST) files under `dir`: train-images-idx3-ubyte and
 * train-labels-idx1-ubyte (train), t10k-* (val), each plain or .gz. Class
 * names from `classes_file` (one per line) if given, else the Fashion-MNIST
 * names when the directory name contains "fashion", else the digits. */
an_status prep_source_idx(prep_listing *l, const char *dir, const char *classes_file);

/* Class subfolders: DIR/train/<class>/... and DIR/val/<class>/... (val optional).
 * Classes are the sorted subfolder names of train; val must have the same set. */
an_status prep_source_folder(prep_listing *l, const char *dir, const char *classes_file);

/* ILSVRC2012 layout: DIR/train/<wnid>/ images, and val either as DIR/val/<wnid>/
 * or flat DIR/val/ images with DIR/ILSVRC2012_validation_ground_truth.txt (or
 * DIR/val/...) translated through the devkit id table. `classes_file` is the
 * synset list ("WNID words" per line, sorted); `devkit_file` the devkit table. */
an_status prep_source_imagenet(prep_listing *l, const char *dir, const char *classes_file, const char *devkit_file);

/* A manifest: lines "relative/path<TAB>class_id[<TAB>split]" (split train or
 * val, default train), paths relative to the manifest's directory; classes
 * from `classes_file` ("id[ words]" per line) or the sorted set of ids seen. */
an_status prep_source_manifest(prep_listing *l, const char *manifest, const char *classes_file);

#endif

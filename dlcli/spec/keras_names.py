"""Names and constructor arguments of Keras 3 layers, callbacks, optimizers, activations... so a
spec is checked without importing Keras.

Generated from keras 3.15.1 by `python -m dlcli.spec.keras_names_generator`, which rewrites
this file from the installed Keras;
tests/test_keras_names.py fails when the installed Keras gives different tables.
Lambda, InputLayer and the framework wrappers are left out: a YAML spec cannot express them.
"""

from __future__ import annotations

# keras.layers classes a spec may name.
LAYERS = frozenset((
    'Activation', 'ActivityRegularization', 'AdaptiveAveragePooling1D', 'AdaptiveAveragePooling2D',
    'AdaptiveAveragePooling3D', 'AdaptiveMaxPooling1D', 'AdaptiveMaxPooling2D',
    'AdaptiveMaxPooling3D', 'Add', 'AdditiveAttention', 'AlphaDropout', 'Attention', 'AugMix',
    'AutoContrast', 'Average', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D',
    'AvgPool1D', 'AvgPool2D', 'AvgPool3D', 'BatchNormalization', 'Bidirectional',
    'CategoryEncoding', 'CenterCrop', 'Concatenate', 'ContrastLimitedAdaptiveHistogramEqualization',
    'Conv1D', 'Conv1DTranspose', 'Conv2D', 'Conv2DTranspose', 'Conv3D', 'Conv3DTranspose',
    'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D', 'Convolution1D', 'Convolution1DTranspose',
    'Convolution2D', 'Convolution2DTranspose', 'Convolution3D', 'Convolution3DTranspose',
    'Cropping1D', 'Cropping2D', 'Cropping3D', 'CutMix', 'Dense', 'DepthwiseConv1D',
    'DepthwiseConv2D', 'Discretization', 'Dot', 'Dropout', 'ELU', 'EinsumDense', 'Embedding',
    'Equalization', 'Flatten', 'GRU', 'GRUCell', 'GaussianDropout', 'GaussianNoise',
    'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalAveragePooling3D', 'GlobalAvgPool1D',
    'GlobalAvgPool2D', 'GlobalAvgPool3D', 'GlobalMaxPool1D', 'GlobalMaxPool2D', 'GlobalMaxPool3D',
    'GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'GlobalMaxPooling3D', 'GroupNormalization',
    'GroupQueryAttention', 'HashedCrossing', 'Hashing', 'Identity', 'IntegerLookup', 'LSTM',
    'LSTMCell', 'LayerNormalization', 'LeakyReLU', 'Masking', 'MaxNumBoundingBoxes', 'MaxPool1D',
    'MaxPool2D', 'MaxPool3D', 'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'Maximum',
    'MelSpectrogram', 'Minimum', 'MixUp', 'MultiHeadAttention', 'Multiply', 'Normalization',
    'PReLU', 'Permute', 'Pipeline', 'RMSNormalization', 'RNN', 'RandAugment', 'RandomBrightness',
    'RandomColorDegeneration', 'RandomColorJitter', 'RandomContrast', 'RandomCrop',
    'RandomElasticTransform', 'RandomErasing', 'RandomFlip', 'RandomGaussianBlur',
    'RandomGrayscale', 'RandomHue', 'RandomInvert', 'RandomPerspective', 'RandomPosterization',
    'RandomRotation', 'RandomSaturation', 'RandomSharpness', 'RandomShear', 'RandomTranslation',
    'RandomZoom', 'ReLU', 'RepeatVector', 'Rescaling', 'Reshape', 'Resizing', 'ReversibleEmbedding',
    'STFTSpectrogram', 'SeparableConv1D', 'SeparableConv2D', 'SeparableConvolution1D',
    'SeparableConvolution2D', 'SimpleRNN', 'SimpleRNNCell', 'Softmax', 'Solarization',
    'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'SpectralNormalization',
    'StackedRNNCells', 'StringLookup', 'Subtract', 'TextVectorization', 'TimeDistributed',
    'UnitNormalization', 'UpSampling1D', 'UpSampling2D', 'UpSampling3D', 'ZeroPadding1D',
    'ZeroPadding2D', 'ZeroPadding3D',
))

# keras.optimizers classes, lower-cased.
OPTIMIZERS = frozenset((
    'adadelta', 'adafactor', 'adagrad', 'adam', 'adamax', 'adamw', 'ftrl', 'lamb', 'lion', 'muon',
    'nadam', 'rmsprop', 'schedulefreeadamw', 'sgd',
))

# What Layer.__init__ takes (its own and the legacy input_shape/input_dim it pops); a layer takes
# them when its **kwargs reach it.
LAYER_BASE_ARGUMENTS = (
    'activity_regularizer', 'autocast', 'dtype', 'input_dim', 'input_shape', 'name', 'trainable',
)

# The arguments each layer class takes through the __init__ of its classes (one name a class).
_LAYER_ARGUMENTS = {
    'Activation': (*LAYER_BASE_ARGUMENTS, 'activation'),
    'ActivityRegularization': (*LAYER_BASE_ARGUMENTS, 'l1', 'l2'),
    'AdaptiveAveragePooling1D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'output_size'),
    'AdaptiveAveragePooling2D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'output_size'),
    'AdaptiveAveragePooling3D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'output_size'),
    'AdaptiveMaxPooling1D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'output_size'),
    'AdaptiveMaxPooling2D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'output_size'),
    'AdaptiveMaxPooling3D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'output_size'),
    'Add': (*LAYER_BASE_ARGUMENTS,),
    'AdditiveAttention': (*LAYER_BASE_ARGUMENTS, 'dropout', 'score_mode', 'seed', 'use_scale'),
    'AlphaDropout': (*LAYER_BASE_ARGUMENTS, 'noise_shape', 'rate', 'seed'),
    'Attention': (*LAYER_BASE_ARGUMENTS, 'dropout', 'score_mode', 'seed', 'use_scale'),
    'AugMix': (
        *LAYER_BASE_ARGUMENTS, 'all_ops', 'alpha', 'bounding_box_format', 'chain_depth',
        'data_format', 'factor', 'interpolation', 'num_chains', 'seed', 'value_range',
    ),
    'AutoContrast': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'value_range',
    ),
    'Average': (*LAYER_BASE_ARGUMENTS,),
    'AveragePooling1D': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'padding', 'pool_dimensions', 'pool_mode',
        'pool_size', 'strides',
    ),
    'AveragePooling2D': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'padding', 'pool_dimensions', 'pool_mode',
        'pool_size', 'strides',
    ),
    'AveragePooling3D': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'padding', 'pool_dimensions', 'pool_mode',
        'pool_size', 'strides',
    ),
    'BatchNormalization': (
        *LAYER_BASE_ARGUMENTS, 'axis', 'beta_constraint', 'beta_initializer', 'beta_regularizer',
        'center', 'epsilon', 'gamma_constraint', 'gamma_initializer', 'gamma_regularizer',
        'momentum', 'moving_mean_initializer', 'moving_variance_initializer', 'renorm',
        'renorm_clipping', 'renorm_momentum', 'scale', 'synchronized',
    ),
    'Bidirectional': (*LAYER_BASE_ARGUMENTS, 'backward_layer', 'layer', 'merge_mode', 'weights'),
    'CategoryEncoding': (*LAYER_BASE_ARGUMENTS, 'num_tokens', 'output_mode', 'sparse'),
    'CenterCrop': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'height', 'width',
    ),
    'Concatenate': (*LAYER_BASE_ARGUMENTS, 'axis'),
    'ContrastLimitedAdaptiveHistogramEqualization': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'clip_limit', 'data_format', 'factor',
        'tile_grid_size', 'value_range',
    ),
    'Conv1D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'dilation_rate', 'filters', 'groups',
        'kernel_constraint', 'kernel_initializer', 'kernel_regularizer', 'kernel_size',
        'lora_alpha', 'lora_rank', 'padding', 'rank', 'strides', 'use_bias',
    ),
    'Conv1DTranspose': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'dilation_rate', 'filters', 'kernel_constraint',
        'kernel_initializer', 'kernel_regularizer', 'kernel_size', 'output_padding', 'padding',
        'rank', 'strides', 'use_bias',
    ),
    'Conv2D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'dilation_rate', 'filters', 'groups',
        'kernel_constraint', 'kernel_initializer', 'kernel_regularizer', 'kernel_size',
        'lora_alpha', 'lora_rank', 'padding', 'rank', 'strides', 'use_bias',
    ),
    'Conv2DTranspose': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'dilation_rate', 'filters', 'kernel_constraint',
        'kernel_initializer', 'kernel_regularizer', 'kernel_size', 'output_padding', 'padding',
        'rank', 'strides', 'use_bias',
    ),
    'Conv3D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'dilation_rate', 'filters', 'groups',
        'kernel_constraint', 'kernel_initializer', 'kernel_regularizer', 'kernel_size',
        'lora_alpha', 'lora_rank', 'padding', 'rank', 'strides', 'use_bias',
    ),
    'Conv3DTranspose': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'dilation_rate', 'filters', 'kernel_constraint',
        'kernel_initializer', 'kernel_regularizer', 'kernel_size', 'output_padding', 'padding',
        'rank', 'strides', 'use_bias',
    ),
    'ConvLSTM1D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'cell', 'data_format', 'dilation_rate', 'dropout', 'filters',
        'go_backwards', 'kernel_constraint', 'kernel_initializer', 'kernel_regularizer',
        'kernel_size', 'padding', 'rank', 'recurrent_activation', 'recurrent_constraint',
        'recurrent_dropout', 'recurrent_initializer', 'recurrent_regularizer', 'return_sequences',
        'return_state', 'seed', 'stateful', 'strides', 'unit_forget_bias', 'unroll', 'use_bias',
        'zero_output_for_mask',
    ),
    'ConvLSTM2D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'cell', 'data_format', 'dilation_rate', 'dropout', 'filters',
        'go_backwards', 'kernel_constraint', 'kernel_initializer', 'kernel_regularizer',
        'kernel_size', 'padding', 'rank', 'recurrent_activation', 'recurrent_constraint',
        'recurrent_dropout', 'recurrent_initializer', 'recurrent_regularizer', 'return_sequences',
        'return_state', 'seed', 'stateful', 'strides', 'unit_forget_bias', 'unroll', 'use_bias',
        'zero_output_for_mask',
    ),
    'ConvLSTM3D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'cell', 'data_format', 'dilation_rate', 'dropout', 'filters',
        'go_backwards', 'kernel_constraint', 'kernel_initializer', 'kernel_regularizer',
        'kernel_size', 'padding', 'rank', 'recurrent_activation', 'recurrent_constraint',
        'recurrent_dropout', 'recurrent_initializer', 'recurrent_regularizer', 'return_sequences',
        'return_state', 'seed', 'stateful', 'strides', 'unit_forget_bias', 'unroll', 'use_bias',
        'zero_output_for_mask',
    ),
    'Cropping1D': (*LAYER_BASE_ARGUMENTS, 'cropping'),
    'Cropping2D': (*LAYER_BASE_ARGUMENTS, 'cropping', 'data_format'),
    'Cropping3D': (*LAYER_BASE_ARGUMENTS, 'cropping', 'data_format'),
    'CutMix': (*LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed'),
    'Dense': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'kernel_constraint', 'kernel_initializer', 'kernel_regularizer',
        'lora_alpha', 'lora_rank', 'quantization_config', 'units', 'use_bias',
    ),
    'DepthwiseConv1D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'depth_multiplier', 'depthwise_constraint',
        'depthwise_initializer', 'depthwise_regularizer', 'dilation_rate', 'kernel_size', 'padding',
        'rank', 'strides', 'use_bias',
    ),
    'DepthwiseConv2D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'depth_multiplier', 'depthwise_constraint',
        'depthwise_initializer', 'depthwise_regularizer', 'dilation_rate', 'kernel_size', 'padding',
        'rank', 'strides', 'use_bias',
    ),
    'Discretization': (
        'bin_boundaries', 'dtype', 'epsilon', 'name', 'num_bins', 'output_mode', 'sparse',
    ),
    'Dot': (*LAYER_BASE_ARGUMENTS, 'axes', 'normalize'),
    'Dropout': (*LAYER_BASE_ARGUMENTS, 'noise_shape', 'rate', 'seed'),
    'ELU': (*LAYER_BASE_ARGUMENTS, 'alpha'),
    'EinsumDense': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_axes', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'equation', 'gptq_unpacked_column_size', 'kernel_constraint',
        'kernel_initializer', 'kernel_regularizer', 'lora_alpha', 'lora_rank', 'output_shape',
        'quantization_config',
    ),
    'Embedding': (
        *LAYER_BASE_ARGUMENTS, 'embeddings_constraint', 'embeddings_initializer',
        'embeddings_regularizer', 'input_length', 'lora_alpha', 'lora_rank', 'mask_zero',
        'output_dim', 'quantization_config', 'weights',
    ),
    'Equalization': (
        *LAYER_BASE_ARGUMENTS, 'bins', 'bounding_box_format', 'data_format', 'factor',
        'value_range',
    ),
    'Flatten': (*LAYER_BASE_ARGUMENTS, 'data_format'),
    'GRU': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'cell', 'dropout', 'go_backwards', 'implementation',
        'kernel_constraint', 'kernel_initializer', 'kernel_regularizer', 'recurrent_activation',
        'recurrent_constraint', 'recurrent_dropout', 'recurrent_initializer',
        'recurrent_regularizer', 'reset_after', 'return_sequences', 'return_state', 'seed',
        'stateful', 'units', 'unroll', 'use_bias', 'use_cudnn', 'zero_output_for_mask',
    ),
    'GRUCell': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'dropout', 'implementation', 'kernel_constraint', 'kernel_initializer',
        'kernel_regularizer', 'recurrent_activation', 'recurrent_constraint', 'recurrent_dropout',
        'recurrent_initializer', 'recurrent_regularizer', 'reset_after', 'seed', 'units',
        'use_bias',
    ),
    'GaussianDropout': (*LAYER_BASE_ARGUMENTS, 'rate', 'seed'),
    'GaussianNoise': (*LAYER_BASE_ARGUMENTS, 'seed', 'stddev'),
    'GlobalAveragePooling1D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'keepdims', 'pool_dimensions'),
    'GlobalAveragePooling2D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'keepdims', 'pool_dimensions'),
    'GlobalAveragePooling3D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'keepdims', 'pool_dimensions'),
    'GlobalMaxPooling1D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'keepdims', 'pool_dimensions'),
    'GlobalMaxPooling2D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'keepdims', 'pool_dimensions'),
    'GlobalMaxPooling3D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'keepdims', 'pool_dimensions'),
    'GroupNormalization': (
        *LAYER_BASE_ARGUMENTS, 'axis', 'beta_constraint', 'beta_initializer', 'beta_regularizer',
        'center', 'epsilon', 'gamma_constraint', 'gamma_initializer', 'gamma_regularizer', 'groups',
        'scale',
    ),
    'GroupQueryAttention': (
        *LAYER_BASE_ARGUMENTS, 'bias_constraint', 'bias_initializer', 'bias_regularizer', 'dropout',
        'flash_attention', 'head_dim', 'kernel_constraint', 'kernel_initializer',
        'kernel_regularizer', 'num_key_value_heads', 'num_query_heads', 'seed', 'sliding_window',
        'use_bias', 'use_gate',
    ),
    'HashedCrossing': ('dtype', 'name', 'num_bins', 'output_mode', 'sparse'),
    'Hashing': (*LAYER_BASE_ARGUMENTS, 'mask_value', 'num_bins', 'output_mode', 'salt', 'sparse'),
    'Identity': (*LAYER_BASE_ARGUMENTS,),
    'IntegerLookup': (
        'dtype', 'has_input_vocabulary', 'idf_weights', 'invert', 'mask_token', 'max_tokens',
        'name', 'num_oov_indices', 'oov_method', 'oov_token', 'output_mode', 'pad_to_max_tokens',
        'salt', 'sparse', 'trainable', 'vocabulary', 'vocabulary_dtype', 'vocabulary_size',
    ),
    'LSTM': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'cell', 'dropout', 'go_backwards', 'implementation',
        'kernel_constraint', 'kernel_initializer', 'kernel_regularizer', 'recurrent_activation',
        'recurrent_constraint', 'recurrent_dropout', 'recurrent_initializer',
        'recurrent_regularizer', 'return_sequences', 'return_state', 'seed', 'stateful',
        'unit_forget_bias', 'units', 'unroll', 'use_bias', 'use_cudnn', 'zero_output_for_mask',
    ),
    'LSTMCell': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'dropout', 'implementation', 'kernel_constraint', 'kernel_initializer',
        'kernel_regularizer', 'recurrent_activation', 'recurrent_constraint', 'recurrent_dropout',
        'recurrent_initializer', 'recurrent_regularizer', 'seed', 'unit_forget_bias', 'units',
        'use_bias',
    ),
    'LayerNormalization': (
        *LAYER_BASE_ARGUMENTS, 'axis', 'beta_constraint', 'beta_initializer', 'beta_regularizer',
        'center', 'epsilon', 'gamma_constraint', 'gamma_initializer', 'gamma_regularizer',
        'rms_scaling', 'scale',
    ),
    'LeakyReLU': (*LAYER_BASE_ARGUMENTS, 'alpha', 'negative_slope'),
    'Masking': (*LAYER_BASE_ARGUMENTS, 'mask_value'),
    'MaxNumBoundingBoxes': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_value',
        'max_number',
    ),
    'MaxPooling1D': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'padding', 'pool_dimensions', 'pool_mode',
        'pool_size', 'strides',
    ),
    'MaxPooling2D': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'padding', 'pool_dimensions', 'pool_mode',
        'pool_size', 'strides',
    ),
    'MaxPooling3D': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'padding', 'pool_dimensions', 'pool_mode',
        'pool_size', 'strides',
    ),
    'Maximum': (*LAYER_BASE_ARGUMENTS,),
    'MelSpectrogram': (
        *LAYER_BASE_ARGUMENTS, 'fft_length', 'mag_exp', 'max_freq', 'min_freq', 'min_power',
        'num_mel_bins', 'power_to_db', 'ref_power', 'sampling_rate', 'sequence_length',
        'sequence_stride', 'top_db', 'window',
    ),
    'Minimum': (*LAYER_BASE_ARGUMENTS,),
    'MixUp': (
        *LAYER_BASE_ARGUMENTS, 'alpha', 'bounding_box_format', 'data_format', 'factor', 'seed',
    ),
    'MultiHeadAttention': (
        *LAYER_BASE_ARGUMENTS, 'attention_axes', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'dropout', 'flash_attention', 'kernel_constraint', 'kernel_initializer',
        'kernel_regularizer', 'key_dim', 'num_heads', 'output_shape', 'seed', 'sliding_window',
        'use_bias', 'use_gate', 'value_dim',
    ),
    'Multiply': (*LAYER_BASE_ARGUMENTS,),
    'Normalization': (*LAYER_BASE_ARGUMENTS, 'axis', 'invert', 'mean', 'variance'),
    'PReLU': (
        *LAYER_BASE_ARGUMENTS, 'alpha_constraint', 'alpha_initializer', 'alpha_regularizer',
        'shared_axes',
    ),
    'Permute': (*LAYER_BASE_ARGUMENTS, 'dims'),
    'Pipeline': ('layers', 'name'),
    'RMSNormalization': (*LAYER_BASE_ARGUMENTS, 'axis', 'epsilon'),
    'RNN': (
        *LAYER_BASE_ARGUMENTS, 'cell', 'go_backwards', 'return_sequences', 'return_state',
        'stateful', 'unroll', 'zero_output_for_mask',
    ),
    'RandAugment': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'interpolation',
        'num_ops', 'seed', 'value_range',
    ),
    'RandomBrightness': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomColorDegeneration': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomColorJitter': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'brightness_factor', 'contrast_factor',
        'data_format', 'factor', 'hue_factor', 'saturation_factor', 'seed', 'value_range',
    ),
    'RandomContrast': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomCrop': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'height', 'seed',
        'width',
    ),
    'RandomElasticTransform': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_mode',
        'fill_value', 'interpolation', 'scale', 'seed', 'value_range',
    ),
    'RandomErasing': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_value',
        'scale', 'seed', 'value_range',
    ),
    'RandomFlip': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'mode', 'seed',
    ),
    'RandomGaussianBlur': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'kernel_size',
        'seed', 'sigma', 'value_range',
    ),
    'RandomGrayscale': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
    ),
    'RandomHue': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomInvert': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomPerspective': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_value',
        'interpolation', 'scale', 'seed',
    ),
    'RandomPosterization': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomRotation': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_mode',
        'fill_value', 'interpolation', 'seed',
    ),
    'RandomSaturation': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomSharpness': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'seed',
        'value_range',
    ),
    'RandomShear': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_mode',
        'fill_value', 'interpolation', 'seed', 'x_factor', 'y_factor',
    ),
    'RandomTranslation': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_mode',
        'fill_value', 'height_factor', 'interpolation', 'seed', 'width_factor',
    ),
    'RandomZoom': (
        *LAYER_BASE_ARGUMENTS, 'bounding_box_format', 'data_format', 'factor', 'fill_mode',
        'fill_value', 'height_factor', 'interpolation', 'seed', 'width_factor',
    ),
    'ReLU': (*LAYER_BASE_ARGUMENTS, 'max_value', 'negative_slope', 'threshold'),
    'RepeatVector': (*LAYER_BASE_ARGUMENTS, 'n'),
    'Rescaling': (*LAYER_BASE_ARGUMENTS, 'offset', 'scale'),
    'Reshape': (*LAYER_BASE_ARGUMENTS, 'target_shape'),
    'Resizing': (
        *LAYER_BASE_ARGUMENTS, 'antialias', 'bounding_box_format', 'crop_to_aspect_ratio',
        'data_format', 'factor', 'fill_mode', 'fill_value', 'height', 'interpolation',
        'pad_to_aspect_ratio', 'width',
    ),
    'ReversibleEmbedding': (
        *LAYER_BASE_ARGUMENTS, 'embeddings_constraint', 'embeddings_initializer',
        'embeddings_regularizer', 'input_length', 'logit_soft_cap', 'lora_alpha', 'lora_rank',
        'mask_zero', 'output_dim', 'quantization_config', 'reverse_dtype', 'tie_weights', 'weights',
    ),
    'STFTSpectrogram': (
        *LAYER_BASE_ARGUMENTS, 'data_format', 'expand_dims', 'fft_length', 'frame_length',
        'frame_step', 'mode', 'padding', 'periodic', 'scaling', 'window',
    ),
    'SeparableConv1D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'depth_multiplier', 'depthwise_constraint',
        'depthwise_initializer', 'depthwise_regularizer', 'dilation_rate', 'filters', 'kernel_size',
        'padding', 'pointwise_constraint', 'pointwise_initializer', 'pointwise_regularizer', 'rank',
        'strides', 'use_bias',
    ),
    'SeparableConv2D': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'data_format', 'depth_multiplier', 'depthwise_constraint',
        'depthwise_initializer', 'depthwise_regularizer', 'dilation_rate', 'filters', 'kernel_size',
        'padding', 'pointwise_constraint', 'pointwise_initializer', 'pointwise_regularizer', 'rank',
        'strides', 'use_bias',
    ),
    'SimpleRNN': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'cell', 'dropout', 'go_backwards', 'kernel_constraint',
        'kernel_initializer', 'kernel_regularizer', 'recurrent_constraint', 'recurrent_dropout',
        'recurrent_initializer', 'recurrent_regularizer', 'return_sequences', 'return_state',
        'seed', 'stateful', 'units', 'unroll', 'use_bias', 'zero_output_for_mask',
    ),
    'SimpleRNNCell': (
        *LAYER_BASE_ARGUMENTS, 'activation', 'bias_constraint', 'bias_initializer',
        'bias_regularizer', 'dropout', 'kernel_constraint', 'kernel_initializer',
        'kernel_regularizer', 'recurrent_constraint', 'recurrent_dropout', 'recurrent_initializer',
        'recurrent_regularizer', 'seed', 'units', 'use_bias',
    ),
    'Softmax': (*LAYER_BASE_ARGUMENTS, 'axis'),
    'Solarization': (
        *LAYER_BASE_ARGUMENTS, 'addition_factor', 'bounding_box_format', 'data_format', 'factor',
        'seed', 'threshold_factor', 'value_range',
    ),
    'SpatialDropout1D': ('dtype', 'name', 'rate', 'seed'),
    'SpatialDropout2D': ('data_format', 'dtype', 'name', 'rate', 'seed'),
    'SpatialDropout3D': ('data_format', 'dtype', 'name', 'rate', 'seed'),
    'SpectralNormalization': (*LAYER_BASE_ARGUMENTS, 'layer', 'power_iterations'),
    'StackedRNNCells': (*LAYER_BASE_ARGUMENTS, 'cells'),
    'StringLookup': (
        'dtype', 'encoding', 'has_input_vocabulary', 'idf_weights', 'invert', 'mask_token',
        'max_tokens', 'name', 'num_oov_indices', 'oov_method', 'oov_token', 'output_mode',
        'pad_to_max_tokens', 'salt', 'sparse', 'trainable', 'vocabulary', 'vocabulary_dtype',
        'vocabulary_size',
    ),
    'Subtract': (*LAYER_BASE_ARGUMENTS,),
    'TextVectorization': (
        *LAYER_BASE_ARGUMENTS, 'encoding', 'has_input_vocabulary', 'idf_weights', 'max_tokens',
        'ngrams', 'output_mode', 'output_sequence_length', 'pad_to_max_tokens', 'ragged', 'sparse',
        'split', 'standardize', 'vocabulary', 'vocabulary_size',
    ),
    'TimeDistributed': (*LAYER_BASE_ARGUMENTS, 'layer'),
    'UnitNormalization': (*LAYER_BASE_ARGUMENTS, 'axis'),
    'UpSampling1D': (*LAYER_BASE_ARGUMENTS, 'size'),
    'UpSampling2D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'interpolation', 'size'),
    'UpSampling3D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'size'),
    'ZeroPadding1D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'padding'),
    'ZeroPadding2D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'padding'),
    'ZeroPadding3D': (*LAYER_BASE_ARGUMENTS, 'data_format', 'padding'),
}

# Other names of the same classes (Convolution2D is Conv2D).
LAYER_ALIASES = {
    'AvgPool1D': 'AveragePooling1D', 'AvgPool2D': 'AveragePooling2D',
    'AvgPool3D': 'AveragePooling3D', 'Convolution1D': 'Conv1D',
    'Convolution1DTranspose': 'Conv1DTranspose', 'Convolution2D': 'Conv2D',
    'Convolution2DTranspose': 'Conv2DTranspose', 'Convolution3D': 'Conv3D',
    'Convolution3DTranspose': 'Conv3DTranspose', 'GlobalAvgPool1D': 'GlobalAveragePooling1D',
    'GlobalAvgPool2D': 'GlobalAveragePooling2D', 'GlobalAvgPool3D': 'GlobalAveragePooling3D',
    'GlobalMaxPool1D': 'GlobalMaxPooling1D', 'GlobalMaxPool2D': 'GlobalMaxPooling2D',
    'GlobalMaxPool3D': 'GlobalMaxPooling3D', 'MaxPool1D': 'MaxPooling1D',
    'MaxPool2D': 'MaxPooling2D', 'MaxPool3D': 'MaxPooling3D',
    'SeparableConvolution1D': 'SeparableConv1D', 'SeparableConvolution2D': 'SeparableConv2D',
}

# The arguments of each Keras callback (keras.callbacks).
_CALLBACK_ARGUMENTS = {
    'BackupAndRestore': ('backup_dir', 'delete_checkpoint', 'double_checkpoint', 'save_freq'),
    'CSVLogger': ('append', 'filename', 'separator'),
    'EarlyStopping': (
        'baseline', 'min_delta', 'mode', 'monitor', 'patience', 'restore_best_weights',
        'start_from_epoch', 'verbose',
    ),
    'LambdaCallback': (
        'on_epoch_begin', 'on_epoch_end', 'on_train_batch_begin', 'on_train_batch_end',
        'on_train_begin', 'on_train_end',
    ),
    'LearningRateScheduler': ('schedule', 'verbose'),
    'ModelCheckpoint': (
        'filepath', 'initial_value_threshold', 'mode', 'monitor', 'save_best_only', 'save_freq',
        'save_weights_only', 'verbose',
    ),
    'OrbaxCheckpoint': (
        'directory', 'initial_value_threshold', 'max_to_keep', 'mode', 'monitor', 'save_best_only',
        'save_freq', 'save_on_background', 'save_weights_only', 'verbose',
    ),
    'ReduceLROnPlateau': (
        'cooldown', 'factor', 'min_delta', 'min_lr', 'mode', 'monitor', 'patience', 'verbose',
    ),
    'RemoteMonitor': ('field', 'headers', 'path', 'root', 'send_as_json'),
    'SwapEMAWeights': ('swap_on_epoch',),
    'TensorBoard': (
        'embeddings_freq', 'embeddings_metadata', 'histogram_freq', 'log_dir', 'profile_batch',
        'update_freq', 'write_graph', 'write_images', 'write_steps_per_second',
    ),
    'TerminateOnNaN': ('raise_error',),
}

# The arguments of each learning-rate schedule (keras.optimizers.schedules).
_SCHEDULE_ARGUMENTS = {
    'CosineDecay': (
        'alpha', 'decay_steps', 'initial_learning_rate', 'name', 'warmup_steps', 'warmup_target',
    ),
    'CosineDecayRestarts': (
        'alpha', 'first_decay_steps', 'initial_learning_rate', 'm_mul', 'name', 't_mul',
    ),
    'ExponentialDecay': ('decay_rate', 'decay_steps', 'initial_learning_rate', 'name', 'staircase'),
    'InverseTimeDecay': ('decay_rate', 'decay_steps', 'initial_learning_rate', 'name', 'staircase'),
    'PiecewiseConstantDecay': ('boundaries', 'name', 'values'),
    'PolynomialDecay': (
        'cycle', 'decay_steps', 'end_learning_rate', 'initial_learning_rate', 'name', 'power',
    ),
}

# Strings keras.activations.get accepts.
ACTIVATIONS = frozenset((
    'celu', 'elu', 'exponential', 'gelu', 'glu', 'hard_shrink', 'hard_sigmoid', 'hard_silu',
    'hard_swish', 'hard_tanh', 'leaky_relu', 'linear', 'log_sigmoid', 'log_softmax', 'mish', 'relu',
    'relu6', 'selu', 'sigmoid', 'silu', 'soft_shrink', 'softmax', 'softplus', 'softsign',
    'sparse_plus', 'sparse_sigmoid', 'sparsemax', 'squareplus', 'swish', 'tanh', 'tanh_shrink',
    'threshold',
))

# Initializer names (keras.initializers.get).
INITIALIZERS = frozenset((
    'Constant', 'GlorotNormal', 'GlorotUniform', 'HeNormal', 'HeUniform', 'Identity',
    'IdentityInitializer', 'Initializer', 'LecunNormal', 'LecunUniform', 'Ones', 'Orthogonal',
    'OrthogonalInitializer', 'RandomNormal', 'RandomUniform', 'STFT', 'STFTInitializer',
    'TruncatedNormal', 'VarianceScaling', 'Zeros', 'constant', 'glorot_normal', 'glorot_uniform',
    'he_normal', 'he_uniform', 'identity', 'initializer', 'lecun_normal', 'lecun_uniform', 'normal',
    'one', 'ones', 'orthogonal', 'random_normal', 'random_uniform', 'stft', 'truncated_normal',
    'uniform', 'variance_scaling', 'zero', 'zeros',
))

# Regularizer names (keras.regularizers.get).
REGULARIZERS = frozenset((
    'L1', 'L1L2', 'L2', 'OrthogonalRegularizer', 'Regularizer', 'l1', 'l1l2', 'l2',
    'orthogonal_regularizer', 'regularizer',
))

# Constraint names (keras.constraints.get).
CONSTRAINTS = frozenset((
    'Constraint', 'MaxNorm', 'MinMaxNorm', 'NonNeg', 'UnitNorm', 'constraint', 'max_norm',
    'min_max_norm', 'non_neg', 'unit_norm',
))

# The `padding` strings a layer accepts, where it refuses others (compared lower-cased).
_PADDINGS = {
    'AveragePooling1D': ('same', 'valid'),
    'AveragePooling2D': ('same', 'valid'),
    'AveragePooling3D': ('same', 'valid'),
    'Conv1D': ('causal', 'same', 'valid'),
    'Conv1DTranspose': ('same', 'valid'),
    'Conv2D': ('same', 'valid'),
    'Conv2DTranspose': ('same', 'valid'),
    'Conv3D': ('same', 'valid'),
    'Conv3DTranspose': ('same', 'valid'),
    'ConvLSTM1D': ('same', 'valid'),
    'ConvLSTM2D': ('same', 'valid'),
    'ConvLSTM3D': ('same', 'valid'),
    'DepthwiseConv1D': ('same', 'valid'),
    'DepthwiseConv2D': ('same', 'valid'),
    'MaxPooling1D': ('same', 'valid'),
    'MaxPooling2D': ('same', 'valid'),
    'MaxPooling3D': ('same', 'valid'),
    'STFTSpectrogram': ('same', 'valid'),
    'SeparableConv1D': ('same', 'valid'),
    'SeparableConv2D': ('same', 'valid'),
}

# Integer arguments a layer's constructor refuses at 0 and below.
_POSITIVE_INTEGERS = {
    'Conv1D': ('filters',),
    'Conv1DTranspose': ('filters',),
    'Conv2D': ('filters',),
    'Conv2DTranspose': ('filters',),
    'Conv3D': ('filters',),
    'Conv3DTranspose': ('filters',),
    'Dense': ('units',),
    'Embedding': ('input_dim', 'output_dim'),
    'GRU': ('units',),
    'GRUCell': ('units',),
    'LSTM': ('units',),
    'LSTMCell': ('units',),
    'ReversibleEmbedding': ('input_dim', 'output_dim'),
    'SeparableConv1D': ('filters',),
    'SeparableConv2D': ('filters',),
    'SimpleRNN': ('units',),
    'SimpleRNNCell': ('units',),
}


def _by_layer(table: dict) -> dict:
    """`table` keyed by every layer name, aliases included."""
    return {name: table[LAYER_ALIASES.get(name, name)] for name in LAYERS
            if LAYER_ALIASES.get(name, name) in table}


LAYER_ARGUMENTS = _by_layer({name: frozenset(args) for name, args in _LAYER_ARGUMENTS.items()})
CALLBACK_ARGUMENTS = {name: frozenset(args) for name, args in _CALLBACK_ARGUMENTS.items()}
SCHEDULE_ARGUMENTS = {name: frozenset(args) for name, args in _SCHEDULE_ARGUMENTS.items()}
PADDINGS = _by_layer({name: frozenset(values) for name, values in _PADDINGS.items()})
POSITIVE_INTEGERS = _by_layer(_POSITIVE_INTEGERS)
